/**
 * A local MQTT broker for tests and benchmarks: Mosquitto on a free port when the binary is
 * installed (it speaks MQTT v5), otherwise an in-process aedes (3.1.1 only). aedes is a
 * development dependency: this module is never part of the runtime.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';

export interface TestBroker {
  kind: 'mosquitto' | 'aedes';
  v5: boolean;
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The broker's process id (Mosquitto only): tests freeze it with SIGSTOP. */
  pid?(): number | undefined;
}

export function mosquittoPath(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) if (existsSync(p)) return p;
  const w = spawnSync('which', ['mosquitto'], { encoding: 'utf8' });
  return w.status === 0 ? w.stdout.trim() : undefined;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitListening(port: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = netConnect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`broker did not listen on ${port}`);
}

export interface MosquittoOptions {
  /** Extra lines for the listener (TLS files, password file). */
  extra?: string[];
  scheme?: string;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<TestBroker> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'llmos-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // max_queued_messages: Mosquitto drops QoS 1 messages beyond 1,000 queued for a client that
  // acks slowly (a busy device); a burst of commands must not be silently thinned out.
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest none', 'set_tcp_nodelay true', 'max_queued_messages 100000', ...(options.extra ?? ['allow_anonymous true']), ''].join('\n'));
  let proc: ChildProcess | undefined;
  const broker: TestBroker = {
    kind: 'mosquitto', v5: true, port, url: `${options.scheme ?? 'mqtt'}://127.0.0.1:${port}`,
    async start() {
      proc = spawn(bin, ['-c', conf], { stdio: 'ignore' });
      await waitListening(port);
    },
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const p = proc;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGKILL');
      await exited;
    },
    pid: () => proc?.pid,
  };
  await broker.start();
  return broker;
}

export async function startAedes(): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  const port = await freePort();
  let server: Server | undefined;
  let aedes: { close(cb: () => void): void; handle: (s: unknown) => void } | undefined;
  const sockets = new Set<import('node:net').Socket>();
  const broker: TestBroker = {
    kind: 'aedes', v5: false, port, url: `mqtt://127.0.0.1:${port}`,
    async start() {
      aedes = await Aedes.createBroker() as unknown as typeof aedes;
      const a = aedes as NonNullable<typeof aedes>;
      server = createServer((s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); a.handle(s); });
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    },
    async stop() {
      // Like a broker that dies: every client connection drops.
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
    },
  };
  await broker.start();
  return broker;
}

/** Mosquitto when installed; LLMOS_TEST_BROKER=aedes forces the in-process broker. */
export async function startBroker(): Promise<TestBroker> {
  if (process.env['LLMOS_TEST_BROKER'] === 'aedes') return startAedes();
  return mosquittoPath() ? startMosquitto() : startAedes();
}

