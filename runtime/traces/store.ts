/**
 * Traces on disk (L3 memory): one YAML file per trace in traces/. Each file is validated against
 * schemas/trace.schema.json (or imported from the upstream edge format); a bad file is reported
 * by name and field and the rest load. Running a trace never writes its file: run statistics go
 * to a journal in the state directory (runtime/traces/stats.ts) and are merged on load. Writes
 * (a new trace, crystallization metadata) are atomic (temp + rename) and keep the file's
 * comments and layout: only the changed fields are rewritten. Parsed files are cached by
 * (size, mtime) in the state directory, so a board with thousands of traces starts quickly.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { fastHash } from '../../lib/hash.js';
import { LlmosError } from '../../lib/errors.js';
import { check, describeIssues } from '../../lib/validate.js';
import { stringifyYaml, yamlLib } from '../../lib/yaml-file.js';
import { goalSignature } from '../matcher/analyze.js';
import { cachedEntry, isTraceFileName, parseTraceFile, scanTraceFiles } from './scan.js';
import { baseOf, mergeStats, TraceStatsJournal, type StatsBase, type TraceRunStats } from './stats.js';
import { TraceCacheFile, type IndexSnapshot, type TraceLoadIssue } from './cache.js';
import type { IndexSummary, Trace, TraceCheck, TraceRecord } from './types.js';

export { importEdgeTrace, parseTraceDocument } from './parse.js';


export type { TraceLoadIssue };

export interface TraceLoadReport {
  loaded: number;
  errors: TraceLoadIssue[];
  warnings: TraceLoadIssue[];
  fromCache: number;
}

/** Computes per-trace data worth caching with the trace (the matcher's model). */
export interface TraceDeriver {
  /** Changes whenever derived data from an older key must not be reused. */
  key: string;
  derive(record: TraceRecord): unknown;
  /** What an index needs of the trace without reading it (kept in the cache's header). */
  summarize?(record: TraceRecord, derived: unknown): Omit<IndexSummary, 'sig'>;
}

/**
 * On a record served from the cache (no other object per trace: 10k traces): its entry number
 * and the load that made it.
 */
const SLOT = Symbol('trace cache entry');
const GEN = Symbol('trace store load');
type LazyRecord = TraceRecord & { [SLOT]?: number; [GEN]?: number };

export class TraceStore {
  readonly dir: string;
  private readonly cachePath: string | undefined;
  private records = new Map<string, TraceRecord | number>();
  private writes = new Map<string, Promise<void>>();
  private readonly deriver: TraceDeriver | undefined;
  /** Run statistics (the state directory's journal); none = counted in memory only. */
  private readonly stats: TraceStatsJournal | undefined;
  private readonly compactStats: boolean;
  /** Each trace file's own statistics, before runs from the journal were added. */
  private bases = new Map<string, StatsBase>();

  /**
   * `statsFile`: the run-statistics journal in the state directory; `compactStats` only for the
   * process that owns that directory (the one writer).
   */
  constructor(options: { dir: string; cacheDir?: string; deriver?: TraceDeriver; statsFile?: string; compactStats?: boolean }) {
    this.dir = resolve(options.dir);
    this.deriver = options.deriver;
    this.stats = options.statsFile ? new TraceStatsJournal(options.statsFile) : undefined;
    this.compactStats = options.compactStats === true;
    this.cachePath = options.cacheDir
      ? join(options.cacheDir, `traces-${fastHash(this.dir)}.v4`)
      : undefined;
  }

  all(): TraceRecord[] {
    return [...this.records.keys()].map((sig) => this.get(sig) as TraceRecord);
  }

  get(signature: string): TraceRecord | undefined {
    const v = this.records.get(signature);
    if (typeof v !== 'number') return v;
    // A trace served from the cache gets its record object when first asked for.
    const c = this.cacheFile as TraceCacheFile;
    const pos = this.slotPos[v] as number;
    const rec = this.lazyRecord(join(this.dir, c.name(pos)), c.format(pos), v, this.gen);
    this.records.set(signature, rec);
    return rec;
  }

  get size(): number {
    return this.records.size;
  }

  /** What the deriver computed for a trace at load time (from the cache when still valid). */
  derived(signature: string): unknown {
    const rec = this.get(signature);
    return rec ? this.derivedFor(rec) : undefined;
  }

  /** Loads every *.yaml / *.yml in the directory. Never throws for a bad file: it is reported. */
  load(): TraceLoadReport {
    const report: TraceLoadReport = { loaded: 0, errors: [], warnings: [], fromCache: 0 };
    let names: string[];
    this.listedTemps = [];
    try {
      const listed = readdirSync(this.dir);
      this.listedTemps = listed.filter((n) => n.charCodeAt(0) === 46 && n.endsWith('.tmp'));
      names = listed.filter(isTraceFileName).sort();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') { this.records = new Map(); return report; }
      throw new LlmosError('ERR_CONFIG_NOT_FOUND', `traces directory ${this.dir}: ${code ?? (e as Error).message}`);
    }
    const derivedKey = this.deriver?.key ?? '';
    const cache = this.cachePath ? TraceCacheFile.open(this.cachePath, this.dir) : undefined;
    const scan = scanTraceFiles(this.dir, names, cache, this.deriver);
    const { entries, prefix } = scan;
    let dirty = scan.dirty;
    report.fromCache = scan.fromCache;
    // Records served from the cache are their entry number until first asked for (get()).
    const records = new Map<string, TraceRecord | number>();
    const parsedNow: Array<[string, TraceRecord]> = [];
    const docs: number[] = [];
    const docSigs: string[] = [];
    this.gen++;
    // Entry number -> position in the cache read (the same in a cache written now).
    const slotPos = new Int32Array(entries.length).fill(-1);
    for (const [i, e] of entries.entries()) {
      const fromCache = typeof e === 'number';
      const issues = fromCache ? (cache as TraceCacheFile).issues(e) : e.issues;
      if (issues?.warnings) report.warnings.push(...issues.warnings);
      if (issues?.error) { report.errors.push(issues.error); continue; }
      const sig = fromCache ? (cache as TraceCacheFile).sig(e) : e.sig;
      const prev = records.get(sig);
      if (prev !== undefined) {
        const file = prefix + (fromCache ? (cache as TraceCacheFile).name(e) : e.name);
        const prevName = typeof prev === 'number' ? (cache as TraceCacheFile).name(slotPos[prev] as number) : basename(prev.file);
        report.warnings.push({ file, code: 'ERR_TRACE_INVALID', message: `${file}: same goal as ${prevName} (signature ${sig}); ignored` });
        continue;
      }
      docs.push(i);
      docSigs.push(sig);
      if (fromCache) {
        records.set(sig, i);
        slotPos[i] = e;
      } else {
        const rec = e.record as TraceRecord;
        records.set(sig, rec);
        parsedNow.push([sig, rec]);
        this.parsed.set(rec, e.derived);
      }
    }
    let current = cache;
    if (dirty) {
      // Lines of unchanged files are copied as they are, without parsing them.
      const all = entries.map((e) => (typeof e === 'number' ? cachedEntry(cache as TraceCacheFile, e) : e));
      const written = this.cachePath ? TraceCacheFile.write(this.cachePath, this.dir, derivedKey, all, docs) : undefined;
      if (written) {
        // The single-JSON cache of earlier versions (8 MB at 10k traces) is not needed again.
        if (this.cachePath) rmSync(this.cachePath.replace(/\.v4$/, '.json'), { force: true });
        // Positions in the file written are the entries' order.
        for (let i = 0; i < slotPos.length; i++) slotPos[i] = i;
        cache?.close();
        current = written;
      }
    }
    // The persisted index applies as it is when nothing changed since it was written.
    this.docSigs = docSigs;
    this.snapshot = !dirty && current?.index && current.index.docs.length === docs.length && Array.prototype.every.call(current.index.docs, (p: number, d: number) => p === docs[d]) ? current.index : undefined;
    if (this.cacheFile && this.cacheFile !== current) this.cacheFile.close();
    this.cacheFile = current;
    this.slotPos = slotPos;
    this.records = records;
    report.loaded = records.size;
    // The cache holds what the files say, the records the merged view (lazy ones when read).
    this.journal = this.stats?.load({ compact: this.compactStats });
    this.bases = new Map();
    for (const [sig, rec] of parsedNow) this.merge(sig, rec.trace);
    return report;
  }

  /** The matcher's index as persisted, when it still describes all() in order. */
  indexSnapshot(): (IndexSnapshot & { sigs: string[] }) | undefined {
    return this.snapshot ? { ...this.snapshot, sigs: this.docSigs } : undefined;
  }

  /** The matcher's index data of a record from the cache (without reading the trace). */
  summaryFor(record: TraceRecord): IndexSummary | undefined {
    const pos = this.posOf(record);
    const s = pos === undefined ? undefined : this.cacheFile?.summary(pos);
    return s && pos !== undefined ? { sig: (this.cacheFile as TraceCacheFile).sig(pos), ...s } : undefined;
  }

  /** What the deriver computed for a record (from its cache line when it came from the cache). */
  derivedFor(record: TraceRecord): unknown {
    if (this.posOf(record) === undefined) return this.parsed.get(record);
    void record.trace; // read now if it was not yet
    const d = this.parsed.get(record);
    this.parsed.delete(record);
    return d;
  }

  /** Dot-files ending in .tmp seen by the last load (stale temporaries to remove: lib/stale-temps.ts). */
  tempNames(): readonly string[] {
    return this.listedTemps;
  }

  private listedTemps: string[] = [];
  private gen = 0;
  private slotPos = new Int32Array(0);
  private snapshot: IndexSnapshot | undefined;
  /** Signatures of the indexed traces, in the index's order. */
  private docSigs: string[] = [];
  private parsed = new WeakMap<TraceRecord, unknown>();
  private cacheFile: TraceCacheFile | undefined;
  private journal: Map<string, TraceRunStats> | undefined;

  /** Where a record of this load is in the open cache (undefined: not served from it). */
  private posOf(record: TraceRecord): number | undefined {
    const r = record as LazyRecord;
    const slot = r[SLOT];
    if (slot === undefined || r[GEN] !== this.gen) return undefined;
    const pos = this.slotPos[slot];
    return pos === undefined || pos < 0 ? undefined : pos;
  }

  /** One getter for every record from the cache: reads the trace when first used. */
  private readonly readTrace = (rec: LazyRecord): Trace => {
    const pos = this.posOf(rec);
    const c = this.cacheFile;
    let trace: Trace | undefined;
    let derived: unknown;
    let sig = '';
    if (pos !== undefined && c) {
      sig = c.sig(pos);
      const body = c.body(pos);
      // The signature field tells a torn or misplaced line (the cache is ours: no need to hash).
      if (body && body.trace.goal_signature === sig) { trace = body.trace; derived = body.derived; }
    }
    if (!trace) {
      // A torn line, or a record kept from an earlier load: its file says what it is now.
      const parsed = parseTraceFile(rec.file, basename(rec.file), { size: 0, mtimeMs: 0 }, this.deriver);
      if (!parsed.record) throw new LlmosError('ERR_TRACE_INVALID', parsed.issues?.error?.message ?? `${rec.file}: cannot be read`);
      trace = parsed.record.trace;
      derived = parsed.derived;
    }
    Object.defineProperty(rec, 'trace', { value: trace, enumerable: true, writable: true, configurable: true });
    if (pos !== undefined) {
      if (this.deriver) this.parsed.set(rec, derived);
      this.merge(sig, trace);
    }
    return trace;
  };

  /** The `trace` property of every record from the cache (one descriptor, one function). */
  private readonly lazyTrace: PropertyDescriptor = ((read) => ({
    enumerable: true, configurable: true, get(this: LazyRecord): Trace { return read(this); },
  }))(this.readTrace);

  private lazyRecord(file: string, format: TraceRecord['format'], slot: number, gen: number): TraceRecord {
    const rec = { file, format } as LazyRecord;
    Object.defineProperty(rec, 'trace', this.lazyTrace);
    rec[SLOT] = slot;
    rec[GEN] = gen;
    return rec;
  }

  private merge(sig: string, trace: Trace): void {
    const base = baseOf(trace);
    this.bases.set(sig, base);
    mergeStats(trace, base, this.journal?.get(sig));
  }

  /**
   * Counts a run: usage_count + 1, success_count and success_rate, last_used. The trace file is
   * not touched: one line goes to the statistics journal (synchronously, so counts from
   * concurrent runs are never lost). Throws ERR_STATE when the journal cannot be written; the
   * in-memory counts are updated anyway.
   */
  async recordRun(signature: string, ok: boolean, at: Date): Promise<Trace | undefined> {
    const rec = this.get(signature);
    if (!rec) return undefined;
    const t = rec.trace;
    const base = this.bases.get(signature) ?? baseOf(t);
    this.bases.set(signature, base);
    const iso = at.toISOString();
    let s: TraceRunStats;
    let failure: unknown;
    if (this.stats) {
      try { s = this.stats.record(signature, base, ok, iso); } catch (e) {
        failure = e;
        s = this.stats.get(signature) as TraceRunStats;
      }
    } else {
      const prev = this.memoryStats.get(signature);
      s = prev && prev.base === base ? prev : { base, runs: 0, successes: 0, last_used: iso, recent: '' };
      s.runs++;
      if (ok) s.successes++;
      s.recent = (s.recent + (ok ? '1' : '0')).slice(-20);
      if (iso > s.last_used) s.last_used = iso;
      this.memoryStats.set(signature, s);
    }
    mergeStats(t, base, s);
    if (failure) throw new LlmosError('ERR_STATE', `run statistics of "${t.goal_text}" not saved: ${(failure as Error).message}`, undefined, { cause: failure });
    return t;
  }

  private memoryStats = new Map<string, TraceRunStats>();

  /** Run statistics of a trace beyond its file's (recent outcomes), if any were counted. */
  runStats(signature: string): TraceRunStats | undefined {
    const s = this.stats?.get(signature) ?? this.memoryStats.get(signature);
    const base = this.bases.get(signature);
    return s && base && s.base[0] === base[0] && s.base[1] === base[1] ? s : undefined;
  }

  /** The file's own statistics (what a bundle carries unless runs were counted since). */
  fileStats(signature: string): StatsBase | undefined {
    return this.bases.get(signature);
  }

  /** Sets top-level fields of a trace file (e.g. `crystallized`) atomically. */
  async update(signature: string, fields: Partial<Trace>): Promise<void> {
    const rec = this.get(signature);
    if (!rec) throw new LlmosError('ERR_TRACE_NOT_FOUND', `no trace with signature ${signature}`);
    Object.assign(rec.trace, fields);
    await this.patchFile(rec, fields as Record<string, unknown>);
  }

  private patchFile(rec: TraceRecord, fields: Record<string, unknown>): Promise<void> {
    const prev = this.writes.get(rec.file) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(async () => {
      let text: string;
      try { text = await readFile(rec.file, 'utf8'); } catch (e) {
        throw new LlmosError('ERR_TRACE_WRITE', `${rec.file}: cannot read for update (${(e as NodeJS.ErrnoException).code})`);
      }
      const { parseDocument, isMap } = yamlLib();
      const doc = parseDocument(text);
      if (!isMap(doc.contents)) throw new LlmosError('ERR_TRACE_WRITE', `${rec.file}: not a YAML mapping; not updated`);
      for (const [k, v] of Object.entries(fields)) doc.set(k, v);
      try {
        await writeFileAtomic(rec.file, doc.toString({ lineWidth: 0 }));
      } catch (e) {
        throw new LlmosError('ERR_TRACE_WRITE', `${rec.file}: ${(e as Error).message}`, undefined, { cause: e });
      }
    });
    this.writes.set(rec.file, next);
    return next;
  }

  /**
   * Writes a new trace file (learning, import). Never replaces the trace of the same goal: what
   * was learned stays until someone removes it on purpose.
   */
  async save(trace: Trace, header?: string): Promise<TraceRecord> {
    const sig = goalSignature(trace.goal_text ?? '');
    const body = { ...trace, goal_signature: sig };
    const issues = check('trace', body);
    if (issues.length > 0) throw new LlmosError('ERR_TRACE_INVALID', `new trace "${trace.goal_text}": ${describeIssues(issues)}`, { issues });
    const existing = this.get(sig);
    if (existing) throw new LlmosError('ERR_TRACE_CONFLICT', `a trace for "${trace.goal_text}" already exists in ${existing.file}; it is not replaced (remove it first to learn it again)`);
    const file = join(this.dir, `${slug(trace.goal_text)}-${sig.slice(0, 8)}.yaml`);
    if (existsSync(file)) throw new LlmosError('ERR_TRACE_CONFLICT', `${file} already exists (a file that does not load as this trace); not replaced`);
    const text = `${header ? `${header.split('\n').map((l) => `# ${l}`).join('\n')}\n` : ''}${stringifyYaml(body)}`;
    try {
      await writeFileAtomic(file, text);
    } catch (e) {
      throw new LlmosError('ERR_TRACE_WRITE', `${file}: ${(e as Error).message}`, undefined, { cause: e });
    }
    const rec: TraceRecord = { trace: body, file, format: 'core' };
    this.records.set(sig, rec);
    this.bases.set(sig, baseOf(body));
    return rec;
  }

  /** Waits for pending writes (shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes.values()]);
  }
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'trace';
}

export type { TraceCheck };
