/**
 * Paths from the command line and the configuration, checked before anything is opened: a
 * state directory must be a directory this process can write (not /proc, not a file), and a
 * file to append to (the sim log) must be a regular file or not yet exist in a writable
 * directory (not /dev/zero, a FIFO or a directory). Each refusal names the flag or field and says why.
 */
import { closeSync, mkdirSync, openSync, readSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { LlmosError } from './errors.js';

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isFile()) return 'a regular file';
  return 'not a regular file';
}

function statOrUndefined(path: string): Stats | undefined {
  try { return statSync(path); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A directory to keep state in: created when missing; refused unless a file can be created in it. */
export function assertUsableDir(path: string, what: string): void {
  const fail = (why: string): never => { throw new LlmosError('ERR_PATH_UNUSABLE', `${what} ${path}: ${why}`); };
  let st: Stats | undefined;
  try { st = statOrUndefined(path); } catch (e) { return fail(`cannot be examined (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  if (st && !st.isDirectory()) return fail(`is ${kind(st)}, not a directory`);
  if (!st) {
    try { makeDirs(path); } catch (e) { return fail(`cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  }
  // Permission bits say little for root (and nothing for /proc or a read-only mount): try it.
  const probe = join(path, `.llmos-probe.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') { try { unlinkSync(probe); } catch { /* another run's */ } return; }
    fail(`is not writable (${code ?? (e as Error).message}); give a directory this user can write`);
  }
}

/**
 * mkdir -p without Node's recursive mode, which retries forever where a parent exists but
 * refuses children with ENOENT (/proc/self/x): each missing level is made once, in order.
 */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  let p = path;
  while (statOrUndefined(p) === undefined) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const dir of missing) mkdirSync(dir);
}

/** A file that is appended to: a regular file, or a new one in an existing, writable directory. */
export function assertUsableFile(path: string, what: string): void {
  const fail = (why: string): never => { throw new LlmosError('ERR_PATH_UNUSABLE', `${what} ${path}: ${why}`); };
  let st: Stats | undefined;
  try { st = statOrUndefined(path); } catch (e) { return fail(`cannot be examined (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  if (st) {
    if (path === '/dev/null') return;
    if (!st.isFile()) fail(`is ${kind(st)}, not a regular file`);
    try { closeSync(openSync(path, 'a')); } catch (e) { fail(`cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
    return;
  }
  const dir = dirname(path);
  const parent = statOrUndefined(dir);
  if (!parent) fail(`its directory ${dir} does not exist`);
  if (parent && !parent.isDirectory()) fail(`${dir} is ${kind(parent)}, not a directory`);
  try { closeSync(openSync(path, 'a')); } catch (e) { fail(`cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
}

/** A file that is read whole (a board profile, a configuration): only a regular file, so /dev/zero or a FIFO cannot hang the reader. */
export function regularFileProblem(path: string): string | undefined {
  let st: Stats | undefined;
  try { st = statOrUndefined(path); } catch { return undefined; }
  return st && !st.isFile() ? `is ${kind(st)}, not a regular file` : undefined;
}

/** Outputs this runtime writes whole, and how to recognise one it wrote before. */
export type OutputKind = 'sim log' | 'SVG plot' | 'MCAP file';
const LOOKS_LIKE: Record<OutputKind, (head: string) => boolean> = {
  // A sim log's first line is a write or an event on the run's timeline: {"t": ms, ...}.
  'sim log': (head) => {
    const first = head.split('\n', 1)[0] ?? '';
    try { const v = JSON.parse(first) as unknown; return typeof v === 'object' && v !== null && typeof (v as { t?: unknown }).t === 'number'; } catch { return false; }
  },
  'SVG plot': (head) => /^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(head),
  'MCAP file': (head) => head.startsWith('\u0089MCAP'),
};

/**
 * An output about to be replaced: only an empty file or one of the same kind (a sim log by a sim
 * log, a plot by a plot) is overwritten. `--sim-log /etc/passwd` or `--out traces/beep.yaml` is
 * refused before anything is truncated: replacing a file we did not write loses data.
 */
export function assertReplaceable(path: string, what: string, kindOf: OutputKind): void {
  let st: Stats | undefined;
  try { st = statOrUndefined(path); } catch { return; }
  if (!st || !st.isFile() || st.size === 0 || path === '/dev/null') return;
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
    } finally { closeSync(fd); }
  } catch (e) {
    throw new LlmosError('ERR_PATH_UNUSABLE', `${what} ${path}: cannot be read to check what it is (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!LOOKS_LIKE[kindOf](head)) {
    throw new LlmosError('ERR_PATH_UNUSABLE', `${what} ${path}: exists and is not ${kindOf === 'sim log' ? 'a' : 'an'} ${kindOf}; refusing to overwrite it (remove it first or give another path)`);
  }
}
