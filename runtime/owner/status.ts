/** Whether a runtime owns a state directory now: its lock file names a socket that answers. */
import { existsSync } from 'node:fs';
import { readOwnerInfo, type OwnerInfo } from './lock.js';

export async function liveOwner(stateDir: string): Promise<OwnerInfo | undefined> {
  const info = readOwnerInfo(stateDir);
  if (!info?.socket || !existsSync(info.socket)) return undefined;
  const { connect } = await import('node:net');
  const socket = info.socket;
  const up = await new Promise<boolean>((resolve) => {
    const s = connect(socket);
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  return up ? info : undefined;
}

/**
 * Resolves once a runtime serves the state directory (tests, the bench and anything that starts
 * an owner and then talks to it): polls every 50 ms, at most `tries` times. `exited` returns why
 * the owner being waited for is gone, so a dead owner fails at once instead of at the bound.
 */
export async function whenOwnerServes(stateDir: string, options: { tries: number; exited?: () => string | undefined }): Promise<OwnerInfo> {
  const { setTimeout: sleep } = await import('node:timers/promises');
  for (let i = 0; i < options.tries; i++) {
    const gone = options.exited?.();
    if (gone !== undefined) throw new Error(`the owner exited: ${gone}`);
    const info = await liveOwner(stateDir);
    if (info) return info;
    await sleep(50);
  }
  throw new Error(`no owner served ${stateDir} after ${options.tries} tries`);
}
