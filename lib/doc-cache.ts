/**
 * A cache of parsed-and-validated documents (board profiles, config files) keyed by path, size and
 * modification time, so a warm start neither loads the YAML parser nor runs a validator. A stale
 * or unreadable cache is ignored; a cache that cannot be written only costs start-up time.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from './atomic-file.js';
import { fastHash } from './hash.js';

interface Entry { path: string; size: number; mtimeMs: number; version: string; value: unknown }

export function cachedDocument<T>(path: string, cacheDir: string | undefined, version: string, produce: () => T): T {
  if (!cacheDir) return produce();
  let st: { size: number; mtimeMs: number };
  try { st = statSync(path); } catch { return produce(); }
  const file = join(cacheDir, `doc-${fastHash(path)}.json`);
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    if (e.path === path && e.size === st.size && e.mtimeMs === st.mtimeMs && e.version === version) return e.value as T;
  } catch { /* no cache yet */ }
  const value = produce();
  try {
    writeFileAtomicSync(file, JSON.stringify({ path, size: st.size, mtimeMs: st.mtimeMs, version, value } satisfies Entry));
  } catch { /* read-only state directory */ }
  return value;
}
