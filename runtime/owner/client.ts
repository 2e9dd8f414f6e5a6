/**
 * The forwarding client: a command-line run that finds a runtime owning its state directory sends
 * its goals there over the control socket and prints what comes back, so it never opens the
 * hardware itself. It imports nothing but node:fs, node:net, node:path and the lock: the launchers in
 * dist/bin load it before the runtime bundle, so a forwarded goal costs little more than Node's
 * own start-up.
 *
 * Protocol: one JSON object per line.
 *   client: {"t":"hello","v":1,"cmd":"run-follower","argv":[...],"cwd":"..."}, then {"t":"line","text"}
 *           per line of standard input (for "-"), or {"t":"keys","text"} per chunk of raw keys (jog),
 *           {"t":"eof"}, and {"t":"interrupt"} on SIGINT/SIGTERM. The owner checks every message
 *           against schemas/owner-message.schema.json.
 *   owner:  {"t":"ok","pid"} (or {"t":"busy"}: it is shutting down), then {"t":"out"|"err","text"}
 *           and finally {"t":"exit","code"}
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { prelock } from './lock.js';

export const PROTOCOL_VERSION = 1;
/** The launcher already asked this state directory's owner (the full command need not ask again). */
export const TRIED = Symbol.for('llmos.owner.tried');
const SOCKET_NAME = 'control.sock';
/** sun_path holds 108 bytes on Linux (104 on BSD); longer paths cannot be bound. */
const MAX_SOCKET_PATH = 100;

export interface ClientMessage { t: 'hello' | 'line' | 'keys' | 'eof' | 'interrupt'; v?: number; cmd?: string; argv?: string[]; cwd?: string; text?: string }
export interface OwnerMessage { t: 'ok' | 'busy' | 'out' | 'err' | 'exit'; pid?: number; text?: string; code?: number }

/** Where an owner of `stateDir` binds its socket unless its lock file names another place. */
export function defaultSocketPath(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const runtimeDir = env['RUNTIME_DIRECTORY'];
  // Under systemd (RuntimeDirectory=) the socket goes to /run/<name>, with its group permissions.
  if (runtimeDir) return join(runtimeDir.split(':')[0] as string, SOCKET_NAME);
  return join(stateDir, SOCKET_NAME);
}

export function socketTooLong(path: string): boolean {
  return Buffer.byteLength(path) > MAX_SOCKET_PATH;
}

/** The socket named in the owner's lock file, else the default place. */
export function ownerSocket(stateDir: string): { path: string; pid?: number } {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, 'owner.lock'), 'utf8')) as { socket?: unknown; pid?: unknown };
    if (typeof v.socket === 'string') return { path: v.socket, ...(typeof v.pid === 'number' ? { pid: v.pid } : {}) };
  } catch { /* no owner has run here, or it is just starting */ }
  return { path: defaultSocketPath(stateDir) };
}

function send(sock: Socket, m: ClientMessage): void {
  if (!sock.destroyed) sock.write(`${JSON.stringify(m)}\n`);
}

export interface ForwardIo {
  out(text: string): void;
  err(text: string): void;
  /** Standard input, when the goals come from it ("-"). */
  stdin?: NodeJS.ReadableStream;
  /** Send standard input as raw key chunks (a terminal in raw mode: jog), not lines. */
  raw?: boolean;
}

const processIo: ForwardIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/**
 * Runs the command in the owner of `stateDir`. Resolves with the exit code, or undefined when no
 * owner took it (none runs, or it is shutting down): then nothing was sent and the caller runs
 * the command itself.
 */
export async function forwardToOwner(stateDir: string, cmd: string, argv: readonly string[], io: ForwardIo = processIo, cwd = process.cwd()): Promise<number | undefined> {
  const target = ownerSocket(stateDir);
  // No socket file, no owner: node:net is not even loaded (a standalone start does not pay for it).
  if (!existsSync(target.path)) return undefined;
  const { connect } = await import('node:net');
  return new Promise((resolvePromise) => {
    let accepted = false;
    let done = false;
    let buf = '';
    let interrupts = 0;
    const sock = connect(target.path);
    const finish = (code: number | undefined): void => {
      if (done) return;
      done = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (io.stdin) { io.stdin.removeListener('data', onData); io.stdin.removeListener('end', onEnd); (io.stdin as NodeJS.ReadStream).pause?.(); }
      sock.destroy();
      resolvePromise(code);
    };
    // Ctrl-C stops this client's goals in the owner (not the owner); a second one leaves at once.
    const onSignal = (sig: NodeJS.Signals): void => {
      interrupts++;
      if (interrupts > 1) { finish(sig === 'SIGINT' ? 130 : 143); return; }
      send(sock, { t: 'interrupt', text: sig });
    };
    let pending = '';
    const onData = (d: Buffer | string): void => {
      if (io.raw) { send(sock, { t: 'keys', text: d.toString() }); return; }
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const text of lines) send(sock, { t: 'line', text });
    };
    const onEnd = (): void => {
      if (pending) send(sock, { t: 'line', text: pending });
      pending = '';
      send(sock, { t: 'eof' });
    };
    sock.on('connect', () => {
      send(sock, { t: 'hello', v: PROTOCOL_VERSION, cmd, argv: [...argv], cwd });
    });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: OwnerMessage;
        try { m = JSON.parse(line) as OwnerMessage; } catch { continue; }
        if (!accepted) {
          if (m.t !== 'ok') { finish(undefined); return; }
          accepted = true;
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          // teach reads its :call lines (and, without --yes, its answer) from standard input either way.
          if (argv.includes('-') || cmd === 'llmos teach' || io.raw) {
            const stdin = io.stdin ?? process.stdin;
            io.stdin = stdin;
            stdin.on('data', onData);
            stdin.on('end', onEnd);
            (stdin as NodeJS.ReadStream).resume?.();
          } else {
            send(sock, { t: 'eof' });
          }
          continue;
        }
        if (m.t === 'out') io.out(m.text ?? '');
        else if (m.t === 'err') io.err(m.text ?? '');
        else if (m.t === 'exit') { finish(typeof m.code === 'number' ? m.code : 1); return; }
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (done) return;
      if (!accepted) { finish(undefined); return; }
      io.err(`${cmd}: ERR_OWNER_LOST: the runtime that owns ${stateDir}${target.pid ? ` (pid ${target.pid})` : ''} stopped before answering; goals not answered may not have run\n`);
      finish(1);
    });
  });
}

/**
 * The launchers' fast path: forwards when the state directory is known from the flags alone
 * (--state DIR or the default ./state) and an owner answers. Anything else (--config, --serve,
 * --standalone, --help, no owner) returns undefined and the full command decides.
 */
export async function forwardFromArgv(cmd: string, argv: readonly string[]): Promise<number | undefined> {
  let state: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === '--config' || a.startsWith('--config=') || a === '--serve' || a === '--standalone' || a === '--check-board'
      || a === '--help' || a === '-h' || a === '--version') return undefined;
    if (a === '--state') state = argv[++i];
    else if (a.startsWith('--state=')) state = a.slice('--state='.length);
  }
  const dir = resolve(state ?? 'state');
  const code = await forwardToOwner(dir, cmd, argv);
  (globalThis as { [TRIED]?: string })[TRIED] = dir;
  // No owner: this run will own the board; start taking the lock while the runtime loads.
  if (code === undefined) prelock(dir);
  return code;
}
