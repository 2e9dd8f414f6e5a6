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
import { LlmosError } from '../lib/errors.js';
import { forwardToOwner } from '../runtime/owner/client.js';
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

export async function ownOrForward(name: string, argv: readonly string[], stateDir: string, mode: OwnerMode): Promise<{ lock: OwnerLock } | { code: number }> {
  if (mode === 'standalone') {
    const lock = await tryLock(stateDir);
    if (!lock) throw busy(stateDir, '--standalone refuses to share the board; without it the goals go to that runtime');
    return { lock };
  }
  const deadline = Date.now() + waitMs();
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (mode === 'auto') {
      const code = await forwardToOwner(stateDir, name, argv);
      if (code !== undefined) return { code };
    }
    const lock = await tryLock(stateDir);
    if (lock) return { lock };
    if (Date.now() >= deadline) throw busy(stateDir, `gave up after waiting ${waitMs()} ms for the board (LLMOS_OWNER_WAIT_MS)`);
    await sleep(delay);
  }
}
