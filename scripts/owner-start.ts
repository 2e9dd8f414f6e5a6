/**
 * Before a command opens any hardware: send the work to the runtime that owns the state
 * directory, or become that owner (take the lock). See runtime/owner/lock.ts for the lock.
 *
 *   default        an owner answers -> forward to it; the lock is free -> own; neither (an owner
 *                  starting up or finishing) -> try again until LLMOS_OWNER_WAIT_MS (30 s), so runs
 *                  that start together take turns instead of sharing the board
 *   --serve        the service: waits the same way for the lock, never forwards
 *   --standalone   owns or refuses at once (ERR_OWNER_BUSY): never shares, never waits
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LlmosError, toLlmosError } from '../lib/errors.js';
import type { LLMOS } from '../runtime/llmos.js';
import { ControlServer } from '../runtime/owner/server.js';
import { sessionHandler } from './owner-session.js';
import { forwardToOwner, TRIED, type ForwardIo } from '../runtime/owner/client.js';
import { readOwnerInfo, tryLock, type OwnerLock } from '../runtime/owner/lock.js';

export type OwnerMode = 'auto' | 'serve' | 'standalone';

function waitMs(): number {
  const v = Number(process.env['LLMOS_OWNER_WAIT_MS']);
  return Number.isFinite(v) && v >= 0 ? v : 30_000;
}

function busy(stateDir: string, what: string): LlmosError {
  const info = readOwnerInfo(stateDir);
  const who = info ? `pid ${info.pid}${info.command ? ` (${info.command})` : ''}` : 'another process';
  return new LlmosError('ERR_OWNER_BUSY', `${what}: ${who} owns the state directory ${stateDir}`);
}

/** `io`: the command's streams and directory, which a forwarded command's owner uses (default this process's). */
export async function ownOrForward(name: string, argv: readonly string[], stateDir: string, mode: OwnerMode, io?: ForwardIo & { cwd: string }): Promise<{ lock: OwnerLock } | { code: number }> {
  if (mode === 'standalone') {
    const lock = await tryLock(stateDir);
    if (!lock) throw busy(stateDir, '--standalone refuses to share the board; without it the goals go to that runtime');
    return { lock };
  }
  const deadline = Date.now() + waitMs();
  // The launcher asked this directory's owner a moment ago: start with the lock.
  const slot = globalThis as { [TRIED]?: string };
  let skipAsk = slot[TRIED] === stateDir;
  slot[TRIED] = undefined;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (mode === 'auto' && !skipAsk) {
      const code = await (io ? forwardToOwner(stateDir, name, argv, forwardIo(io), io.cwd) : forwardToOwner(stateDir, name, argv));
      if (code !== undefined) return { code };
    }
    skipAsk = false;
    const lock = await tryLock(stateDir);
    if (lock) return { lock };
    if (Date.now() >= deadline) throw busy(stateDir, `gave up after waiting ${waitMs()} ms for the board (LLMOS_OWNER_WAIT_MS)`);
    await sleep(delay);
  }
}

/** The client's view of a command's io; standard input is only touched when goals come from it. */
function forwardIo(io: ForwardIo): ForwardIo {
  return {
    out: (t) => io.out(t),
    err: (t) => io.err(t),
    get stdin() { return io.stdin; },
    // The client remembers the stream it read: it is the command's own, already.
    set stdin(_s) { /* unchanged */ },
  };
}

export interface ControlHandle {
  /** Stops taking commands and lets those in progress finish. */
  close(): Promise<void>;
}

/**
 * Serves the control socket for this owner. `delayMs` > 0 (one goal from the command line): only
 * once the run has lasted that long, so a short run costs no socket (a command arriving meanwhile
 * waits for the lock) while a long one still takes other commands' goals.
 */
export function serveControl(os: LLMOS, lock: OwnerLock, label: string, delayMs: number): ControlHandle {
  let server: ControlServer | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;
  const start = (): void => {
    if (stopped) return;
    starting = ControlServer.listen(os.config.paths.state, lock, sessionHandler(os), label).then((s) => {
      if (stopped) s.destroy(); else server = s;
    }, (e: unknown) => {
      // Goals still run here; other commands wait for the lock instead of sending theirs.
      os.log.warn(`control socket: ${toLlmosError(e).message}`);
    });
  };
  const timer = delayMs > 0 ? setTimeout(start, delayMs) : undefined;
  timer?.unref();
  if (delayMs <= 0) start();
  os.onShutdown(async () => {
    stopped = true;
    clearTimeout(timer);
    await starting;
    server?.destroy();
  });
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await starting;
      await server?.close();
    },
  };
}
