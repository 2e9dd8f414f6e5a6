/**
 * The trace cache in the state directory: what each trace file parsed to, so a start with
 * thousands of traces neither parses YAML nor builds the matcher's index again.
 *
 * One file, `<state>/cache/traces-<dir hash>.v4`: a first line `LLMOS-TRACES/5 <json> <binary>`
 * (byte lengths), a JSON header, a binary section of float64s, then one JSON line per trace (its
 * parsed record and the matcher's model). The header is all a start reads, and little of it is
 * objects: file names as one string, signatures as one string, sizes, mtimes and line offsets as
 * numbers read in place (a file whose size or mtime changed is parsed again); and the matcher's
 * index as it was built (posting lists per concept; weights and hashes of normalised texts as
 * numbers), used as it is when the directory is unchanged. A trace's own line is read (pread on the descriptor kept
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

const MAGIC = 'LLMOS-TRACES/5 ';
/** First number of the binary section: a cache written with another byte order reads as foreign. */
const PROBE = 1234.5;
const NO_SIG = '-'.repeat(16);

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
  docs: ArrayLike<number>;
  keys: string[];
  /** Per key id: sorted doc numbers whose text has the concept. */
  post: number[][];
  /** Per key id: sorted doc numbers whose tools imply it. */
  impl: number[][];
  w: ArrayLike<number>;
  /** fnv32 of each doc's normalised text. */
  nh: ArrayLike<number>;
}

/** The JSON part; numbers per file (sizes, mtimes, offsets, lengths) and per doc are binary. */
interface Header {
  dir: string;
  derivedKey: string;
  count: number;
  /** File names joined by NUL (no file name holds one). */
  names: string;
  /** 16 characters per file (NO_SIG for a file that did not load). */
  sigs: string;
  formats: string;
  issues: Record<string, FileIssues>;
  index: { docs: number; keys: string[]; post: number[][]; impl: number[][] } | null;
}

/** An open cache file: its header, and its lines read on demand. */
export class TraceCacheFile {
  private fd: number | undefined;
  private readonly bodyStart: number;
  private readonly h: Header;
  /** PROBE, then sizes, mtimes, offsets, lengths (count each), then docs, weights, hashes. */
  private readonly nums: Float64Array;
  readonly index: IndexSnapshot | null;
  private nameList: string[] | undefined;
  private byName: Map<string, number> | undefined;
  private summaries: Array<Omit<IndexSummary, 'sig'> | undefined> | undefined;

  private constructor(fd: number, bodyStart: number, header: Header, nums: Float64Array) {
    this.fd = fd;
    this.bodyStart = bodyStart;
    this.h = header;
    this.nums = nums;
    const ix = header.index;
    const n = header.count;
    const at = 1 + 4 * n;
    this.index = ix ? { keys: ix.keys, post: ix.post, impl: ix.impl, docs: nums.subarray(at, at + ix.docs), w: nums.subarray(at + ix.docs, at + 2 * ix.docs), nh: nums.subarray(at + 2 * ix.docs, at + 3 * ix.docs) } : null;
  }

  get derivedKey(): string { return this.h.derivedKey; }
  get count(): number { return this.h.count; }
  /** Whether `names` are this cache's files, in its order (one string comparison). */
  sameNames(names: readonly string[]): boolean { return names.length === this.h.count && names.join('\0') === this.h.names; }
  name(pos: number): string {
    this.nameList ??= this.h.count === 0 ? [] : this.h.names.split('\0');
    return this.nameList[pos] ?? '';
  }
  size(pos: number): number { return pos < this.h.count ? this.nums[1 + pos] as number : -1; }
  mtimeMs(pos: number): number { return pos < this.h.count ? this.nums[1 + this.h.count + pos] as number : -1; }
  private off(pos: number): number { return this.nums[1 + 2 * this.h.count + pos] ?? 0; }
  private len(pos: number): number { return pos < this.h.count ? this.nums[1 + 3 * this.h.count + pos] as number : 0; }
  sig(pos: number): string {
    const s = this.h.sigs.slice(16 * pos, 16 * pos + 16);
    return s === NO_SIG ? '' : s;
  }
  format(pos: number): TraceRecord['format'] { return this.h.formats[pos] === 'e' ? 'edge' : 'core'; }
  issues(pos: number): FileIssues | undefined { return Object.hasOwn(this.h.issues, pos) ? this.h.issues[pos] : undefined; }

  /** Position of a file in this cache. */
  positionOf(name: string): number | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (let i = 0; i < this.h.count; i++) this.byName.set(this.name(i), i);
    }
    return this.byName.get(name);
  }

  /** A file's matcher summary, from the persisted index (for a rewrite after a change). */
  summary(pos: number): Omit<IndexSummary, 'sig'> | undefined {
    if (!this.summaries) {
      const out: Array<{ nh: number; weight: number; keys: string[]; implied: string[] } | undefined> = [];
      const ix = this.index;
      if (ix) {
        for (let d = 0; d < ix.docs.length; d++) out[ix.docs[d] as number] = { nh: ix.nh[d] as number, weight: ix.w[d] as number, keys: [], implied: [] };
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
      const head = Buffer.alloc(80);
      const n = readSync(fd, head, 0, 80, 0);
      const text = head.toString('latin1', 0, n);
      const nl = text.indexOf('\n');
      if (!text.startsWith(MAGIC) || nl < 0) throw new Error('not a v5 trace cache');
      const [jsonLen, binLen] = text.slice(MAGIC.length, nl).split(' ').map(Number) as [number, number];
      if (!Number.isSafeInteger(jsonLen) || jsonLen <= 0 || jsonLen % 8 !== 0 || !Number.isSafeInteger(binLen) || binLen < 8 || binLen % 8 !== 0) throw new Error('bad lengths');
      // Its own ArrayBuffer, so the numbers after the (8-byte padded) JSON are aligned for float64s.
      const buf = Buffer.allocUnsafeSlow(jsonLen + binLen);
      if (readSync(fd, buf, 0, jsonLen + binLen, nl + 1) !== jsonLen + binLen) throw new Error('torn header');
      const h = JSON.parse(buf.toString('utf8', 0, jsonLen)) as Header;
      const nums = new Float64Array(buf.buffer, buf.byteOffset + jsonLen, binLen / 8);
      if (h.dir !== dir || typeof h.derivedKey !== 'string' || !validHeader(h, nums)) throw new Error('foreign or torn cache');
      return new TraceCacheFile(fd, nl + 1 + jsonLen + binLen, h, nums);
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
    const len = this.len(pos);
    const off = this.off(pos);
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
    const n = entries.length;
    const ix = docs.every((p) => entries[p]?.summary) ? indexOf(entries, docs) : null;
    const h: Header = { dir, derivedKey, count: n, names: entries.map((e) => e.name).join('\0'), sigs: '', formats: '', issues: {}, index: null };
    const nums = new Float64Array(1 + 4 * n + (ix ? 3 * docs.length : 0));
    nums[0] = PROBE;
    const bodies: Buffer[] = [];
    let off = 0;
    for (const [i, e] of entries.entries()) {
      const len = e.body ? e.body.length : 0;
      nums[1 + i] = e.size; nums[1 + n + i] = e.mtimeMs; nums[1 + 2 * n + i] = off; nums[1 + 3 * n + i] = len;
      h.sigs += e.sig.length === 16 ? e.sig : NO_SIG;
      h.formats += e.format === 'edge' ? 'e' : 'c';
      if (e.issues) h.issues[i] = e.issues;
      if (e.body) { bodies.push(e.body, newline); off += len + 1; }
    }
    if (ix) {
      h.index = { docs: docs.length, keys: ix.keys, post: ix.post, impl: ix.impl };
      nums.set(docs, 1 + 4 * n);
      nums.set(ix.w, 1 + 4 * n + docs.length);
      nums.set(ix.nh, 1 + 4 * n + 2 * docs.length);
    }
    let json = JSON.stringify(h);
    json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
    const header = Buffer.from(json);
    const bin = Buffer.from(nums.buffer, nums.byteOffset, nums.byteLength);
    const first = Buffer.from(`${MAGIC}${header.length} ${bin.length}\n`);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
    let fd: number | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(tmp, 'w+', 0o644);
      for (const b of [first, header, bin, ...bodies]) {
        let done = 0;
        while (done < b.length) done += writeSync(fd, b, done, b.length - done);
      }
      fsyncSync(fd);
      renameSync(tmp, path);
      return new TraceCacheFile(fd, first.length + header.length + bin.length, h, new Float64Array(nums));
    } catch {
      if (fd !== undefined) { try { closeSync(fd); } catch { /* gone */ } }
      try { unlinkSync(tmp); } catch { /* never made */ }
      return undefined;
    }
  }
}

function indexOf(entries: readonly CacheEntry[], docs: readonly number[]): { keys: string[]; post: number[][]; impl: number[][]; w: number[]; nh: number[] } {
  const ix = { keys: [] as string[], post: [] as number[][], impl: [] as number[][], w: [] as number[], nh: [] as number[] };
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

function validHeader(h: Header, nums: Float64Array): boolean {
  const n = h.count;
  if (!Number.isSafeInteger(n) || n < 0 || nums[0] !== PROBE || typeof h.names !== 'string' || typeof h.sigs !== 'string' || h.sigs.length !== 16 * n
    || typeof h.formats !== 'string' || h.formats.length !== n || typeof h.issues !== 'object' || h.issues === null) return false;
  let seps = 0;
  for (let i = h.names.indexOf('\0'); i >= 0; i = h.names.indexOf('\0', i + 1)) seps++;
  if (n > 0 && seps !== n - 1) return false;
  const ix = h.index;
  if (ix === null) return nums.length === 1 + 4 * n;
  if (typeof ix !== 'object' || !Number.isSafeInteger(ix.docs) || !Array.isArray(ix.keys) || !Array.isArray(ix.post) || !Array.isArray(ix.impl)
    || ix.post.length !== ix.keys.length || ix.impl.length !== ix.keys.length || nums.length !== 1 + 4 * n + 3 * ix.docs) return false;
  const d = ix.docs;
  for (let i = 0; i < d; i++) {
    const p = nums[1 + 4 * n + i] as number;
    if (!Number.isInteger(p) || p < 0 || p >= n) return false;
  }
  // Lists are written sorted: their ends bound every element (a torn file fails to parse at all).
  return [...ix.post, ...ix.impl].every((l) => Array.isArray(l) && (l.length === 0 || (Number.isInteger(l[0]) && (l[0] as number) >= 0 && Number.isInteger(l[l.length - 1]) && (l[l.length - 1] as number) < d)));
}
