/**
 * One owner per state directory: an exclusive lock on `<state>/owner.lock` that the kernel
 * releases when the owning process dies, however it dies (SIGKILL, OOM, power cut).
 *
 * Why flock(2) through flock(1): Node has no flock and a native addon (or fs-ext) needs a
 * compiler on the board. A flock belongs to the open file description, not to the process that
 * called it, so this process opens the lock file and lends the descriptor to `flock -n 3`
 * (util-linux, on every Debian/Raspberry Pi OS/Jetson image); when that helper exits, the lock
 * stays with the description this process still holds, and only this process's death or
 * release() frees it. The descriptor is close-on-exec (Node opens every file with O_CLOEXEC),
 * so no other child (the safety watchdog) keeps the lock alive after we die.
 * The alternatives lose: an O_EXCL pid file goes stale after a crash and its liveness check
 * races (two starters both see it stale, a reused pid looks alive); a bound Unix socket also
 * leaves a stale file whose removal races the same way. Both are used here only as the fallback
 * where flock(1) is missing (a developer's Mac), with that race documented.
 *
 * The lock file also tells clients where the control socket is: `{"pid": ..., "socket": ...}`,
 * written in place (never renamed: a new inode would be a new, unlocked lock file).
 */
import { closeSync, constants, ftruncateSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LlmosError } from '../../lib/errors.js';
import { makeDirs } from '../../lib/usable-path.js';

export const LOCK_FILE = 'owner.lock';

export interface OwnerInfo {
  pid: number;
  socket?: string;
  /** The command that owns the directory (run-follower --serve, a standalone run). */
  command?: string;
  started?: string;
}

export interface OwnerLock {
  readonly file: string;
  /** Records who owns the directory and where its control socket is. */
  describe(info: OwnerInfo): void;
  /** Frees the lock (exit frees it too). Safe to call twice. */
  release(): void;
}

/** What the lock file says about its owner (may be stale: only the lock itself is the truth). */
export function readOwnerInfo(stateDir: string): OwnerInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, LOCK_FILE), 'utf8')) as Partial<OwnerInfo>;
    return typeof v.pid === 'number' ? (v as OwnerInfo) : undefined;
  } catch {
    return undefined;
  }
}

let flockMissing = false;

interface Attempt { dir: string; fd: number; status: Promise<number | 'missing'> }
/** Shared by every copy of this module in the process (the launcher's and the runtime bundle's). */
const PRELOCK = Symbol.for('llmos.owner.prelock');
type Slot = { [PRELOCK]?: { dir: string; attempt: Promise<Attempt> } };

/** Starts flock(1) on the lock file: the child locks the description we lend it as fd 3. */
async function startAttempt(stateDir: string): Promise<Attempt> {
  const file = join(stateDir, LOCK_FILE);
  let fd: number;
  try {
    // Not mkdirSync's recursive mode: it spins forever under /proc (ENOENT for every child).
    makeDirs(stateDir);
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o660);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LlmosError('ERR_STATE', `${file}: cannot open the owner lock (${code}); the state directory must be writable by this user (an operator sends goals to the service only while it runs)`);
  }
  // Loaded here only: a forwarded goal never needs it.
  const { spawn } = await import('node:child_process');
  const status = new Promise<number | 'missing'>((resolve) => {
    const child = spawn('flock', ['-n', '-x', '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    child.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'missing' : -1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
  return { dir: stateDir, fd, status };
}

/**
 * Starts taking the lock in the background (the launchers do this while the runtime bundle loads,
 * so the helper process costs no start-up time). tryLock() for the same directory picks it up.
 */
export function prelock(stateDir: string): void {
  if (flockMissing) return;
  const slot = globalThis as Slot;
  if (slot[PRELOCK]) return;
  const attempt = startAttempt(stateDir);
  attempt.catch(() => undefined);
  slot[PRELOCK] = { dir: stateDir, attempt };
}

/** Takes the lock if it is free; undefined when another process holds it. Never waits for it. */
export async function tryLock(stateDir: string): Promise<OwnerLock | undefined> {
  const file = join(stateDir, LOCK_FILE);
  if (flockMissing) return tryPidLock(file);
  const slot = globalThis as Slot;
  const pre = slot[PRELOCK];
  slot[PRELOCK] = undefined;
  let attempt = pre ? await pre.attempt.catch(() => undefined) : undefined;
  if (attempt && pre?.dir !== stateDir) {
    // Started for another directory than the configuration chose: give it up.
    closeSync(attempt.fd);
    attempt = undefined;
  }
  attempt ??= await startAttempt(stateDir);
  const status = await attempt.status;
  const fd = attempt.fd;
  if (status === 'missing') {
    closeSync(fd);
    flockMissing = true;
    return tryPidLock(file);
  }
  if (status !== 0) {
    closeSync(fd);
    if (status === 1) return undefined;
    throw new Error(`flock ${file}: exit status ${status}`);
  }
  let closed = false;
  return {
    file,
    describe(info) {
      if (closed) return;
      const text = `${JSON.stringify(info)}\n`;
      ftruncateSync(fd, 0);
      writeSync(fd, text, 0);
    },
    release() {
      if (closed) return;
      closed = true;
      try { ftruncateSync(fd, 0); } catch { /* read-only: the next owner overwrites it */ }
      closeSync(fd);
    },
  };
}

/**
 * Fallback without flock(1): `<file>.pid` created with O_EXCL; a file naming a dead process is
 * removed and the creation tried once more. Two processes finding the same stale file at the same
 * moment can both win; flock(1) has no such window.
 */
function tryPidLock(file: string): OwnerLock | undefined {
  const pidFile = `${file}.pid`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o660);
      let closed = false;
      const describe = (info: OwnerInfo): void => {
        const text = `${JSON.stringify(info)}\n`;
        ftruncateSync(fd, 0);
        writeSync(fd, text, 0);
        try { const f = openSync(file, 'w', 0o660); writeSync(f, text); closeSync(f); } catch { /* informational copy */ }
      };
      describe({ pid: process.pid });
      return {
        file,
        describe: (info) => { if (!closed) describe(info); },
        release() {
          if (closed) return;
          closed = true;
          closeSync(fd);
          try { unlinkSync(pidFile); } catch { /* gone */ }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = 0;
      try { pid = (JSON.parse(readFileSync(pidFile, 'utf8')) as OwnerInfo).pid; } catch { /* torn: treat as stale */ }
      if (pid > 0 && alive(pid)) return undefined;
      try { unlinkSync(pidFile); } catch { /* another starter removed it */ }
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
