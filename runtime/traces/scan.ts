/**
 * The trace directory at a load: each *.yaml / *.yml file found in the cache unchanged (same
 * size and mtime: its position there), or parsed now (with its derived model and cache line).
 */
import { readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { toLlmosError } from '../../lib/errors.js';
import { parseYaml } from '../../lib/yaml-file.js';
import type { CacheEntry, CachedBody, TraceCacheFile, TraceLoadIssue } from './cache.js';
import { parseTraceDocument } from './parse.js';
import type { TraceDeriver } from './store.js';
import type { TraceRecord } from './types.js';

/** A file parsed at this load (`record`, unless it is bad), and its cache line. */
export interface LoadEntry extends CacheEntry {
  record?: TraceRecord;
  derived?: unknown;
}

/** *.yaml / *.yml, not a dot-file (the common spellings tested first: 10k names at every start). */
export function isTraceFileName(n: string): boolean {
  if (n.charCodeAt(0) === 46) return false;
  return n.endsWith('.yaml') || n.endsWith('.yml') || /\.ya?ml$/i.test(n);
}

const RELATIVE_STAT_MIN = 1000;

/** Changes into `dir`; returns the directory to go back to, or undefined (then paths stay absolute). */
function enter(dir: string): string | undefined {
  try {
    const home = process.cwd();
    process.chdir(dir);
    return home;
  } catch {
    return undefined;
  }
}

/**
 * Stats every file (one stat per file is what makes an edit, addition or removal seen: the
 * directory's mtime would miss a file rewritten in place) and takes what the cache still holds.
 * A file served from the cache is its position there (no object per file: 10k traces).
 */
export function scanTraceFiles(dir: string, names: readonly string[], cache: TraceCacheFile | undefined, deriver: TraceDeriver | undefined): {
  entries: Array<LoadEntry | number>; dirty: boolean; fromCache: number; prefix: string;
} {
  // Models from another deriver are not reused: their records still are (read from the cache).
  const sameDeriver = cache?.derivedKey === (deriver?.key ?? '');
  // Same names in the same order: positions match and no lookup by name is needed.
  const sameNames = cache !== undefined && cache.sameNames(names);
  let dirty = !sameNames || !sameDeriver;
  let fromCache = 0;
  const entries: Array<LoadEntry | number> = [];
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  // With many files, each is stat'ed by name from inside the directory: the kernel then resolves
  // one path component, not the whole path (measured: a quarter of 10k stats' time). The loop is
  // synchronous and the previous directory is restored before anything else runs; every other
  // path here is absolute.
  const home = names.length >= RELATIVE_STAT_MIN ? enter(dir) : undefined;
  try {
    for (const [i, name] of names.entries()) {
      const file = prefix + name;
      const st = statSync(home === undefined ? file : name, { throwIfNoEntry: false });
      if (!st) { dirty = true; continue; }
      const pos = sameNames ? i : cache?.positionOf(name);
      if (cache && pos !== undefined && cache.size(pos) === st.size && cache.mtimeMs(pos) === st.mtimeMs) {
        if (sameDeriver || !cache.sig(pos)) { fromCache++; entries.push(pos); continue; }
        const again = fromBody(dir, cache, pos, deriver);
        if (again) { fromCache++; entries.push(again); dirty = true; continue; }
      }
      entries.push(parseTraceFile(file, name, st, deriver));
      dirty = true;
    }
  } finally {
    if (home !== undefined) { try { process.chdir(home); } catch { /* the previous directory is gone */ } }
  }
  return { entries, dirty, fromCache, prefix };
}

/** A cached file as an entry of a cache to write: its line copied as it is, not parsed. */
export function cachedEntry(cache: TraceCacheFile, pos: number): CacheEntry {
  const issues = cache.issues(pos);
  const body = cache.raw(pos);
  const summary = cache.summary(pos);
  return {
    name: cache.name(pos), size: cache.size(pos), mtimeMs: cache.mtimeMs(pos), sig: cache.sig(pos), format: cache.format(pos),
    ...(issues ? { issues } : {}), ...(body ? { body } : {}), ...(summary ? { summary } : {}),
  };
}

/** A file unchanged since the cache whose model came from another deriver: derived again. */
function fromBody(dir: string, cache: TraceCacheFile, pos: number, deriver: TraceDeriver | undefined): LoadEntry | undefined {
  const body = cache.body(pos);
  if (!body || body.trace.goal_signature !== cache.sig(pos)) return undefined;
  const name = cache.name(pos);
  const record: TraceRecord = { trace: body.trace, file: join(dir, name), format: cache.format(pos) };
  return entryOf(name, { size: cache.size(pos), mtimeMs: cache.mtimeMs(pos) }, record, cache.issues(pos)?.warnings, deriver);
}

/** Parses one trace file into its load entry (a bad file: an entry naming the problem). */
export function parseTraceFile(file: string, name: string, st: { size: number; mtimeMs: number }, deriver: TraceDeriver | undefined): LoadEntry {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8'), file, 'ERR_TRACE_INVALID');
    const { record, warnings } = parseTraceDocument(doc, file);
    return entryOf(name, st, record, warnings.length ? warnings : undefined, deriver);
  } catch (e) {
    const err = toLlmosError(e, 'ERR_TRACE_INVALID');
    return { name, size: st.size, mtimeMs: st.mtimeMs, sig: '', format: 'core', issues: { error: { file, code: err.code, message: err.message } } };
  }
}

function entryOf(name: string, st: { size: number; mtimeMs: number }, record: TraceRecord, warnings: TraceLoadIssue[] | undefined, deriver: TraceDeriver | undefined): LoadEntry {
  const derived = deriver?.derive(record);
  const summary = deriver?.summarize?.(record, derived);
  // The line is taken before run statistics are merged into the record: it holds what the file says.
  const body = Buffer.from(JSON.stringify({ trace: record.trace, ...(deriver ? { derived } : {}) } satisfies CachedBody));
  return {
    name, size: st.size, mtimeMs: st.mtimeMs, sig: record.trace.goal_signature, format: record.format, body, record, derived,
    ...(summary ? { summary } : {}), ...(warnings ? { issues: { warnings } } : {}),
  };
}

