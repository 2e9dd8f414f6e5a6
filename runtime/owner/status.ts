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
