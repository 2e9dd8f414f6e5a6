/**
 * Temporaries this program leaves when it is killed between writing a temp file and renaming it
 * (lib/atomic-file.ts: `.<name>.<pid>.<n>.<rand>.tmp`; bundles: `.<name>.<pid>.tmp`). They are
 * removed at start when their writer is gone (its pid no longer runs) or when they are older
 * than any write could take; a live writer's file is left alone.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const TEMP = /^\..+\.(\d+)(?:\.\d+\.[a-z0-9]+)?\.tmp$/;
const STALE_MS = 10 * 60 * 1000;

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Whether `name` (a directory entry) is a stale temporary of ours; `path` is used for its age. */
export function isStaleTemp(name: string, path: string, now = Date.now()): boolean {
  const m = TEMP.exec(name);
  if (!m) return false;
  if (!running(Number(m[1]))) return true;
  try { return now - statSync(path).mtimeMs > STALE_MS; } catch { return false; }
}

/** Removes the stale temporaries among `names`, entries of `dir` already listed by the caller. */
export function removeStaleTempsNamed(dir: string, names: readonly string[]): number {
  let removed = 0;
  for (const name of names) {
    if (name.charCodeAt(0) !== 46 || !name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    if (isStaleTemp(name, path)) { try { unlinkSync(path); removed++; } catch { /* gone already */ } }
  }
  return removed;
}

/** Removes stale temporaries in `dirs` (and their subdirectories, `depth` levels down); returns how many. */
export function removeStaleTemps(dirs: readonly string[], depth = 1): number {
  let removed = 0;
  for (const dir of dirs) {
    if (depth === 0) {
      // Names only: a traces directory may hold 100,000 files, and only dot-files can match.
      let names: string[];
      try { names = readdirSync(dir); } catch { continue; }
      removed += removeStaleTempsNamed(dir, names);
      continue;
    }
    let entries: Array<{ name: string; isDirectory(): boolean; isFile(): boolean }>;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth > 0) removed += removeStaleTemps([path], depth - 1);
      } else if (e.isFile() && isStaleTemp(e.name, path)) {
        try { unlinkSync(path); removed++; } catch { /* gone already, or not ours to remove */ }
      }
    }
  }
  return removed;
}
