/**
 * The trace cache in the state directory: what each trace file parsed to, so a start with
 * thousands of traces neither parses YAML nor builds the matcher's index again.
 *
 * One file, `<state>/cache/traces-<dir hash>.v4`: a first line `LLMOS-TRACES/4 <header bytes>`,
 * a JSON header, then one JSON line per trace (its parsed record and the matcher's model). The
 * header is all a start reads: per file (parallel arrays, no object per file) its name, size and
 * mtime (a file whose size or mtime changed is parsed again) and signature; and the matcher's
 * index as it was built (posting lists per concept, weights, hashes of normalised texts), used as it is
 * when the directory is unchanged. A trace's own line is read (pread on the descriptor kept
 * open) only when the trace is first used, so 10k traces cost a few MB of heap, not 60.
 * (Measured on 10k traces: the former single 8 MB JSON cost ~100 ms to parse and most of a
 * 116 MB peak, and building the index from it another ~60 ms.)
 *
 * Written by the owner only, crash-safe: a temp file, fsync, rename; the descriptor of the file
 * written stays open, so what is read later is what was written even if another file replaces
 * it. A torn or foreign cache reads as no cache (everything parsed again), a bad line as that
 * trace's file to parse again: never a crash.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { IndexSummary, TraceRecord } from './types.js';

const MAGIC = 'LLMOS-TRACES/4 ';

export interface TraceLoadIssue {
  file: string;
  code: string;
  message: string;
}

export interface FileIssues { error?: TraceLoadIssue; warnings?: TraceLoadIssue[] }

/** One trace file as a new cache will know it. */
export interface CacheEntry {
  name: string;
  size: number;
  mtimeMs: number;
  /** Empty for a file that did not load. */
  sig: string;
  format: TraceRecord['format'];
  issues?: FileIssues;
  /** Its matcher summary, when it is in the index (loaded, not a duplicate). */
  summary?: Omit<IndexSummary, 'sig'>;
  /** Its line (undefined: none, it did not load). */
  body?: Buffer;
}

/** A trace's line: the record as its file says (no run statistics) and the derived model. */
export interface CachedBody {
  trace: TraceRecord['trace'];
  derived?: unknown;
}

/** The matcher's index as persisted: docs are positions of files, in index order. */
export interface IndexSnapshot {
  docs: number[];
  keys: string[];
  /** Per key id: sorted doc numbers whose text has the concept. */
  post: number[][];
  /** Per key id: sorted doc numbers whose tools imply it. */
  impl: number[][];
  w: number[];
  /** fnv32 of each doc's normalised text. */
  nh: number[];
}

interface Header {
  dir: string;
  derivedKey: string;
  names: string[];
  sizes: number[];
  mtimes: number[];
  sigs: string[];
  formats: string;
  offs: number[];
  lens: number[];
  issues: Record<string, FileIssues>;
  index: IndexSnapshot | null;
}

/** An open cache file: its header, and its lines read on demand. */
export class TraceCacheFile {
  private fd: number | undefined;
  private readonly bodyStart: number;
  private readonly h: Header;
  private byName: Map<string, number> | undefined;
  private summaries: Array<Omit<IndexSummary, 'sig'> | undefined> | undefined;

  private constructor(fd: number, bodyStart: number, header: Header) {
    this.fd = fd;
    this.bodyStart = bodyStart;
    this.h = header;
  }

  get derivedKey(): string { return this.h.derivedKey; }
  get names(): readonly string[] { return this.h.names; }
  get index(): IndexSnapshot | null { return this.h.index; }
  size(pos: number): number { return this.h.sizes[pos] ?? -1; }
  mtimeMs(pos: number): number { return this.h.mtimes[pos] ?? -1; }
  sig(pos: number): string { return this.h.sigs[pos] ?? ''; }
  format(pos: number): TraceRecord['format'] { return this.h.formats[pos] === 'e' ? 'edge' : 'core'; }
  issues(pos: number): FileIssues | undefined { return Object.hasOwn(this.h.issues, pos) ? this.h.issues[pos] : undefined; }

  /** Position of a file in this cache. */
  positionOf(name: string): number | undefined {
    this.byName ??= new Map(this.h.names.map((n, i) => [n, i]));
    return this.byName.get(name);
  }

  /** A file's matcher summary, from the persisted index (for a rewrite after a change). */
  summary(pos: number): Omit<IndexSummary, 'sig'> | undefined {
    if (!this.summaries) {
      const out: Array<{ nh: number; weight: number; keys: string[]; implied: string[] } | undefined> = [];
      const ix = this.h.index;
      if (ix) {
        ix.docs.forEach((p, d) => { out[p] = { nh: ix.nh[d] as number, weight: ix.w[d] as number, keys: [], implied: [] }; });
        const spread = (lists: number[][], field: 'keys' | 'implied'): void => {
          lists.forEach((docs, k) => { for (const d of docs) out[ix.docs[d] as number]?.[field].push(ix.keys[k] as string); });
        };
        spread(ix.post, 'keys');
        spread(ix.impl, 'implied');
      }
      this.summaries = out;
    }
    return this.summaries[pos];
  }

  /** The cache at `path` for traces in `dir`, or undefined (none, torn, foreign, unreadable). */
  static open(path: string, dir: string): TraceCacheFile | undefined {
    let fd: number;
    try { fd = openSync(path, 'r'); } catch { return undefined; }
    try {
      const head = Buffer.alloc(64);
      const n = readSync(fd, head, 0, 64, 0);
      const text = head.toString('latin1', 0, n);
      const nl = text.indexOf('\n');
      if (!text.startsWith(MAGIC) || nl < 0) throw new Error('not a v4 trace cache');
      const len = Number(text.slice(MAGIC.length, nl));
      if (!Number.isSafeInteger(len) || len <= 0) throw new Error('bad header length');
      const buf = Buffer.alloc(len);
      if (readSync(fd, buf, 0, len, nl + 1) !== len) throw new Error('torn header');
      const h = JSON.parse(buf.toString('utf8')) as Header;
      const count = Array.isArray(h.names) ? h.names.length : -1;
      const arrays = [h.sizes, h.mtimes, h.sigs, h.offs, h.lens];
      if (h.dir !== dir || typeof h.derivedKey !== 'string' || count < 0 || arrays.some((a) => !Array.isArray(a) || a.length !== count)
        || typeof h.formats !== 'string' || h.formats.length !== count || typeof h.issues !== 'object' || h.issues === null || !validIndex(h.index, count)) {
        throw new Error('foreign or torn cache');
      }
      return new TraceCacheFile(fd, nl + 1 + len, h);
    } catch {
      closeSync(fd);
      return undefined;
    }
  }

  /** A trace's line, or undefined when it cannot be read (the caller parses the file again). */
  body(pos: number): CachedBody | undefined {
    const raw = this.raw(pos);
    if (!raw) return undefined;
    try {
      const b = JSON.parse(raw.toString('utf8')) as CachedBody;
      return b && typeof b === 'object' && b.trace && typeof b.trace.goal_text === 'string' ? b : undefined;
    } catch {
      return undefined;
    }
  }

  /** A line's raw bytes (copied into a rewritten cache without parsing it). */
  raw(pos: number): Buffer | undefined {
    const len = this.h.lens[pos] ?? 0;
    const off = this.h.offs[pos] ?? 0;
    if (this.fd === undefined || len <= 0) return undefined;
    const buf = Buffer.alloc(len);
    try { return readSync(this.fd, buf, 0, len, this.bodyStart + off) === len ? buf : undefined; } catch { return undefined; }
  }

  close(): void {
    if (this.fd !== undefined) { try { closeSync(this.fd); } catch { /* already closed */ } }
    this.fd = undefined;
  }

  /**
   * Writes a new cache atomically; `docs` are the positions of the entries the matcher indexes,
   * in its order. Returns the cache written (positions = entries' order), or undefined when it
   * could not be written (a read-only state directory only costs start-up time).
   */
  static write(path: string, dir: string, derivedKey: string, entries: readonly CacheEntry[], docs: readonly number[]): TraceCacheFile | undefined {
    const newline = Buffer.from('\n');
    const h: Header = { dir, derivedKey, names: [], sizes: [], mtimes: [], sigs: [], formats: '', offs: [], lens: [], issues: {}, index: null };
    const bodies: Buffer[] = [];
    let off = 0;
    for (const [i, e] of entries.entries()) {
      const len = e.body ? e.body.length : 0;
      h.names.push(e.name); h.sizes.push(e.size); h.mtimes.push(e.mtimeMs); h.sigs.push(e.sig);
      h.formats += e.format === 'edge' ? 'e' : 'c';
      h.offs.push(off); h.lens.push(len);
      if (e.issues) h.issues[i] = e.issues;
      if (e.body) { bodies.push(e.body, newline); off += len + 1; }
    }
    if (docs.every((p) => entries[p]?.summary)) h.index = indexOf(entries, docs);
    const header = Buffer.from(JSON.stringify(h));
    const first = Buffer.from(`${MAGIC}${header.length}\n`);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
    let fd: number | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(tmp, 'w+', 0o644);
      for (const b of [first, header, ...bodies]) {
        let done = 0;
        while (done < b.length) done += writeSync(fd, b, done, b.length - done);
      }
      fsyncSync(fd);
      renameSync(tmp, path);
      return new TraceCacheFile(fd, first.length + header.length, h);
    } catch {
      if (fd !== undefined) { try { closeSync(fd); } catch { /* gone */ } }
      try { unlinkSync(tmp); } catch { /* never made */ }
      return undefined;
    }
  }
}

function indexOf(entries: readonly CacheEntry[], docs: readonly number[]): IndexSnapshot {
  const ix: IndexSnapshot = { docs: [...docs], keys: [], post: [], impl: [], w: [], nh: [] };
  const ids = new Map<string, number>();
  const add = (lists: number[][], key: string, doc: number): void => {
    let k = ids.get(key);
    if (k === undefined) { k = ix.keys.length; ix.keys.push(key); ids.set(key, k); ix.post.push([]); ix.impl.push([]); }
    const list = lists[k] as number[];
    if (list[list.length - 1] !== doc) list.push(doc);
  };
  docs.forEach((p, d) => {
    const s = (entries[p] as CacheEntry).summary as Omit<IndexSummary, 'sig'>;
    ix.w.push(s.weight);
    ix.nh.push(s.nh);
    for (const k of s.keys) add(ix.post, k, d);
    for (const k of s.implied) add(ix.impl, k, d);
  });
  return ix;
}

function validIndex(ix: IndexSnapshot | null, count: number): boolean {
  if (ix === null) return true;
  if (typeof ix !== 'object' || !Array.isArray(ix.docs) || !Array.isArray(ix.keys) || !Array.isArray(ix.post) || !Array.isArray(ix.impl)
    || !Array.isArray(ix.w) || !Array.isArray(ix.nh)) return false;
  const n = ix.docs.length;
  return ix.w.length === n && ix.nh.length === n && ix.post.length === ix.keys.length && ix.impl.length === ix.keys.length
    && ix.docs.every((p) => Number.isInteger(p) && p >= 0 && p < count)
    // Lists are written sorted: their ends bound every element (a torn file fails to parse at all).
    && [...ix.post, ...ix.impl].every((l) => Array.isArray(l) && (l.length === 0 || (Number.isInteger(l[0]) && (l[0] as number) >= 0 && Number.isInteger(l[l.length - 1]) && (l[l.length - 1] as number) < n)));
}
