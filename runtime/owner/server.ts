/**
 * The owner's control socket: a Unix domain socket (group-only permissions, 0660) over which
 * command-line runs send their goals and operator commands to the process that owns the board
 * (runtime/owner/client.ts has the protocol). Only the holder of the owner lock binds it, so a
 * socket file left by a crashed owner is removed safely before binding.
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fastHash } from '../../lib/hash.js';
import { defaultSocketPath, PROTOCOL_VERSION, socketTooLong, type ClientMessage, type OwnerMessage } from './client.js';
import type { OwnerLock } from './lock.js';
import { check, type ValidationIssue } from '../../lib/validate.js';

/** One message is a line of input or a command line: far below this. */
const MAX_MESSAGE = 1024 * 1024;

function describe(m: unknown, issues: readonly ValidationIssue[]): string {
  const t = m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>)['t'] : undefined;
  if (!['hello', 'line', 'keys', 'eof', 'interrupt'].includes(String(t))) return `"t" must be one of "hello", "line", "keys", "eof", "interrupt" (got ${JSON.stringify(t) ?? 'nothing'})`;
  const own = issues.filter((i) => !/must be equal to constant|must match exactly one schema/.test(i.message));
  return `a "${String(t)}" message: ${(own.length ? own : issues).slice(0, 3).map((i) => `${i.path || '/'} ${i.message}`).join('; ')}`;
}

export interface SessionHello { cmd: string; argv: string[]; cwd: string }

export interface SessionIo {
  out(text: string): void;
  err(text: string): void;
  /** Lines of the client's standard input (ends at its end of input). */
  lines: AsyncIterable<string>;
  /** Aborted when the client is interrupted (Ctrl-C) or goes away. */
  signal: AbortSignal;
}

/** Runs one client's command; resolves with its exit code. */
export type SessionHandler = (hello: SessionHello, io: SessionIo) => Promise<number>;

/** A queue of lines read as an async iterable. */
class LineQueue implements AsyncIterable<string> {
  private items: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(line: string): void { this.items.push(line); this.wake?.(); }
  end(): void { this.ended = true; this.wake?.(); }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) { yield next; continue; }
      if (this.ended) return;
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
    }
  }
}

export class ControlServer {
  readonly path: string;
  private readonly server: Server;
  private readonly sessions = new Set<Promise<void>>();
  private readonly sockets = new Set<Socket>();
  private closing = false;

  private constructor(path: string, server: Server) {
    this.path = path;
    this.server = server;
  }

  /** Binds the socket (the caller holds the lock) and records it in the lock file. */
  static async listen(stateDir: string, lock: OwnerLock, handler: SessionHandler, command: string): Promise<ControlServer> {
    let path = defaultSocketPath(stateDir);
    if (socketTooLong(path)) path = join(tmpdir(), `llmos-${fastHash(stateDir)}.sock`);
    mkdirSync(dirname(path), { recursive: true });
    // Left by an owner that died: we hold the lock, so no live owner is behind it.
    try { unlinkSync(path); } catch { /* none */ }
    // node:net is loaded here: a standalone run that never serves does not pay for it.
    const { createServer } = await import('node:net');
    const server = createServer();
    const cs = new ControlServer(path, server);
    server.on('connection', (sock) => cs.accept(sock, handler));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
    // Group-only: operators in the service's group may send goals, nobody else. (Until this
    // chmod the umask's mode applies, which is no wider.)
    chmodSync(path, 0o660);
    lock.describe({ pid: process.pid, socket: path, command, started: new Date().toISOString() });
    return cs;
  }

  private accept(sock: Socket, handler: SessionHandler): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    const write = (m: OwnerMessage): void => { if (!sock.destroyed && sock.writable) sock.write(`${JSON.stringify(m)}\n`); };
    const lines = new LineQueue();
    const interrupt = new AbortController();
    let started = false;
    let buf = '';
    let count = 0;
    // A message that fails its schema (schemas/owner-message.schema.json) ends the session: the
    // client hears why, and whatever its goals moved stops as on an interrupt.
    const refuse = (why: string): void => {
      write({ t: 'err', text: `llmos: ERR_USAGE: control socket message ${count}: ${why}\n` });
      if (!started) write({ t: 'exit', code: 2 });
      refused = true;
      lines.end();
      if (!interrupt.signal.aborted) interrupt.abort(new Error(`a bad control message: ${why}`));
      // A session in progress ends by its abort and then says its exit status.
      if (!started) sock.end();
      buf = '';
    };
    let refused = false;
    sock.on('data', (d: Buffer) => {
      if (refused) return;
      buf += d.toString('utf8');
      if (buf.length > MAX_MESSAGE && buf.indexOf('\n') < 0) { count++; refuse(`longer than ${MAX_MESSAGE} bytes without a newline`); sock.destroy(); return; }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const raw = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        count++;
        let m: ClientMessage;
        try { m = JSON.parse(raw) as ClientMessage; } catch { refuse('not a JSON line'); return; }
        const issues = check('ownerMessage', m);
        if (issues.length > 0) { refuse(describe(m, issues)); return; }
        if (!started) {
          if (m.t !== 'hello') { refuse(`expected "hello" first, got "${m.t}"`); return; }
          if (m.v !== PROTOCOL_VERSION || typeof m.cmd !== 'string' || !Array.isArray(m.argv) || typeof m.cwd !== 'string' || this.closing) {
            write({ t: 'busy' });
            sock.end();
            return;
          }
          started = true;
          write({ t: 'ok', pid: process.pid });
          const hello: SessionHello = { cmd: m.cmd, argv: m.argv.map(String), cwd: m.cwd };
          const run = handler(hello, { out: (text) => write({ t: 'out', text }), err: (text) => write({ t: 'err', text }), lines, signal: interrupt.signal })
            .catch((e: unknown) => { write({ t: 'err', text: `${hello.cmd}: ERR_INTERNAL: ${e instanceof Error ? e.message : String(e)}\n` }); return 1; })
            .then((code) => { write({ t: 'exit', code }); sock.end(); });
          const tracked = run.finally(() => this.sessions.delete(tracked));
          this.sessions.add(tracked);
          continue;
        }
        if ((m.t === 'line' || m.t === 'keys') && typeof m.text === 'string') lines.push(m.text);
        else if (m.t === 'eof') lines.end();
        else if (m.t === 'interrupt') { interrupt.abort(new Error(`interrupted (${m.text ?? 'signal'})`)); lines.end(); }
      }
    });
    // A client that goes away stops its goals, as its Ctrl-C would.
    sock.on('close', () => { lines.end(); if (!interrupt.signal.aborted) interrupt.abort(new Error('the client went away')); });
  }

  /** Sessions in progress. */
  get active(): number {
    return this.sessions.size;
  }

  /**
   * Stops taking sessions and waits for those in progress (a standalone run lets the goals it
   * accepted finish before it gives up the board). Safe to call twice.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      // No new connections; the callback would wait for idle ones too, so it is not awaited.
      this.server.close();
      try { unlinkSync(this.path); } catch { /* Node removed it */ }
    }
    while (this.sessions.size > 0) await Promise.allSettled([...this.sessions]);
    for (const s of this.sockets) s.destroy();
  }

  /** Ends every session now (shutdown by a signal): their clients hear the owner went away. */
  destroy(): void {
    this.closing = true;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    try { unlinkSync(this.path); } catch { /* gone */ }
  }
}
