/**
 * Traces on disk (L3 memory): one YAML file per trace in traces/. Each file is validated against
 * schemas/trace.schema.json (or imported from the upstream edge format); a bad file is reported
 * by name and field and the rest load. Running a trace never writes its file: run statistics go
 * to a journal in the state directory (runtime/traces/stats.ts) and are merged on load. Writes
 * (a new trace, crystallization metadata) are atomic (temp + rename) and keep the file's
 * comments and layout: only the changed fields are rewritten. Parsed files are cached by
 * (size, mtime) in the state directory, so a board with thousands of traces starts quickly.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../lib/atomic-file.js';
import { fastHash } from '../../lib/hash.js';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import { check, describeIssues } from '../../lib/validate.js';
import { parseYaml, stringifyYaml, yamlLib } from '../../lib/yaml-file.js';
import { goalSignature } from '../matcher/analyze.js';
import { assertTracePatterns } from './patterns.js';
import { baseOf, mergeStats, TraceStatsJournal, type StatsBase, type TraceRunStats } from './stats.js';
import type { Trace, TraceCheck, TraceRecord, TraceStep } from './types.js';

/** Bump when the parsed shape changes, so old caches are ignored. */
const CACHE_VERSION = 3;
const SIG_RE = /^[0-9a-f]{16}$/;

export interface TraceLoadIssue {
  file: string;
  code: string;
  message: string;
}

export interface TraceLoadReport {
  loaded: number;
  errors: TraceLoadIssue[];
  warnings: TraceLoadIssue[];
  fromCache: number;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  record?: TraceRecord;
  error?: TraceLoadIssue;
  warnings?: TraceLoadIssue[];
  /** Data derived from the record (the matcher's model), valid for `derivedKey`. */
  derived?: unknown;
  derivedKey?: string;
}

/** Computes per-trace data worth caching with the trace (the matcher's model). */
export interface TraceDeriver {
  /** Changes whenever derived data from an older key must not be reused. */
  key: string;
  derive(record: TraceRecord): unknown;
}

interface CacheFile {
  version: number;
  dir: string;
  entries: Record<string, CacheEntry>;
}

interface RawEdgeStep {
  step?: number;
  description?: string;
  tool_call: { tool: string; parameters?: Record<string, unknown> };
  validation?: Array<Record<string, unknown>>;
  on_error?: unknown;
}

interface RawEdgeTrace {
  trace_id: string;
  goal_signature?: string;
  goal_text?: string;
  goal?: string;
  description?: string;
  success_rate?: number;
  usage_count?: number;
  created_at?: string;
  last_used?: string;
  preconditions?: Array<Record<string, unknown>>;
  steps: RawEdgeStep[];
}

function isEdgeFormat(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && 'steps' in doc && !('tool_calls' in doc);
}

/** Upstream edge trace -> core trace. */
export function importEdgeTrace(raw: RawEdgeTrace): Record<string, unknown> {
  const text = raw.goal_text ?? raw.goal
    ?? (raw.goal_signature && !SIG_RE.test(raw.goal_signature) ? raw.goal_signature : undefined)
    ?? raw.description ?? raw.trace_id.replace(/[-_]+/g, ' ');
  const steps = [...raw.steps].sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
  const tool_calls = steps.map((s) => {
    const call: Record<string, unknown> = { name: s.tool_call.tool, args: s.tool_call.parameters ?? {} };
    if (s.description) call['description'] = s.description;
    if (s.validation?.length) call['check'] = s.validation.map((v) => pick(v, ['check', 'type', 'parameters', 'description']));
    if (s.on_error !== undefined) call['on_error'] = s.on_error;
    return call;
  });
  const out: Record<string, unknown> = {
    goal_text: text,
    trace_id: raw.trace_id,
    success_rate: raw.success_rate ?? 1,
    usage_count: raw.usage_count ?? 0,
    origin: 'imported',
    tool_calls,
  };
  if (raw.created_at) out['created_at'] = raw.created_at;
  if (raw.last_used) out['last_used'] = raw.last_used;
  if (raw.description) out['description'] = raw.description;
  if (raw.preconditions?.length) out['preconditions'] = raw.preconditions.map((p) => pick(p, ['condition', 'validation_type', 'parameters', 'type', 'sensor', 'min', 'max']));
  return out;
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** Parses and validates one trace document; throws ERR_TRACE_INVALID naming the field. */
export function parseTraceDocument(doc: unknown, file: string): { record: TraceRecord; warnings: TraceLoadIssue[] } {
  const warnings: TraceLoadIssue[] = [];
  let format: TraceRecord['format'] = 'core';
  let body = doc;
  if (isEdgeFormat(doc)) {
    const issues = check('edgeTrace', doc);
    if (issues.length > 0) throw new LlmosError('ERR_TRACE_INVALID', `${file}: ${describeIssues(issues)}`, { issues });
    body = importEdgeTrace(doc as RawEdgeTrace);
    format = 'edge';
  }
  const issues = check('trace', body);
  if (issues.length > 0) throw new LlmosError('ERR_TRACE_INVALID', `${file}: ${describeIssues(issues)}`, { issues });
  const t = body as Trace & { goal_signature?: string };
  assertTracePatterns(t, file);
  const computed = goalSignature(t.goal_text);
  if (t.goal_signature && t.goal_signature !== computed) {
    warnings.push({ file, code: 'ERR_TRACE_INVALID', message: `${file}: goal_signature ${t.goal_signature} does not match goal_text (expected ${computed}); using ${computed}` });
  }
  const trace: Trace = {
    ...t,
    goal_signature: computed,
    success_rate: t.success_rate ?? 1,
    usage_count: t.usage_count ?? 0,
    tool_calls: t.tool_calls.map((c): TraceStep => ({ ...c, args: c.args ?? {} })),
  };
  return { record: { trace, file, format }, warnings };
}

export class TraceStore {
  readonly dir: string;
  private readonly cachePath: string | undefined;
  private records = new Map<string, TraceRecord>();
  private derivedBySignature = new Map<string, unknown>();
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
      ? join(options.cacheDir, `traces-${fastHash(this.dir)}.json`)
      : undefined;
  }

  all(): TraceRecord[] {
    return [...this.records.values()];
  }

  get(signature: string): TraceRecord | undefined {
    return this.records.get(signature);
  }

  get size(): number {
    return this.records.size;
  }

  /** What the deriver computed for a trace at load time (from the cache when still valid). */
  derived(signature: string): unknown {
    return this.derivedBySignature.get(signature);
  }

  /** Loads every *.yaml / *.yml in the directory. Never throws for a bad file: it is reported. */
  load(): TraceLoadReport {
    const report: TraceLoadReport = { loaded: 0, errors: [], warnings: [], fromCache: 0 };
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.')).sort();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') { this.records = new Map(); return report; }
      throw new LlmosError('ERR_CONFIG_NOT_FOUND', `traces directory ${this.dir}: ${code ?? (e as Error).message}`);
    }
    const cache = this.readCache();
    const next: Record<string, CacheEntry> = {};
    let dirty = cache === undefined || Object.keys(cache.entries).length !== names.length;
    const records = new Map<string, TraceRecord>();
    const derived = new Map<string, unknown>();
    for (const name of names) {
      const file = join(this.dir, name);
      let st: { size: number; mtimeMs: number };
      try { st = statSync(file); } catch { continue; }
      let entry = cache?.entries[name];
      if (entry && entry.size === st.size && entry.mtimeMs === st.mtimeMs) {
        report.fromCache++;
      } else {
        entry = this.parseFile(file, st);
        dirty = true;
      }
      next[name] = entry;
      if (entry.warnings) report.warnings.push(...entry.warnings);
      if (entry.error) { report.errors.push(entry.error); continue; }
      const rec = entry.record as TraceRecord;
      const prev = records.get(rec.trace.goal_signature);
      if (prev) {
        report.warnings.push({ file, code: 'ERR_TRACE_INVALID', message: `${file}: same goal as ${basename(prev.file)} (signature ${rec.trace.goal_signature}); ignored` });
        continue;
      }
      records.set(rec.trace.goal_signature, rec);
      if (this.deriver) {
        if (entry.derivedKey !== this.deriver.key) {
          entry.derived = this.deriver.derive(rec);
          entry.derivedKey = this.deriver.key;
          dirty = true;
        }
        derived.set(rec.trace.goal_signature, entry.derived);
      }
    }
    this.records = records;
    this.derivedBySignature = derived;
    report.loaded = records.size;
    if (dirty) this.writeCache({ version: CACHE_VERSION, dir: this.dir, entries: next });
    // After the cache is written: the cache holds what the files say, the records the merged view.
    const journal = this.stats?.load({ compact: this.compactStats });
    this.bases = new Map();
    for (const [sig, rec] of records) {
      const base = baseOf(rec.trace);
      this.bases.set(sig, base);
      mergeStats(rec.trace, base, journal?.get(sig));
    }
    return report;
  }

  private parseFile(file: string, st: { size: number; mtimeMs: number }): CacheEntry {
    try {
      const doc = parseYaml(readFileSync(file, 'utf8'), file, 'ERR_TRACE_INVALID');
      const { record, warnings } = parseTraceDocument(doc, file);
      return { size: st.size, mtimeMs: st.mtimeMs, record, ...(warnings.length ? { warnings } : {}) };
    } catch (e) {
      const err = toLlmosError(e, 'ERR_TRACE_INVALID');
      return { size: st.size, mtimeMs: st.mtimeMs, error: { file, code: err.code, message: err.message } };
    }
  }

  private readCache(): CacheFile | undefined {
    if (!this.cachePath) return undefined;
    try {
      const c = JSON.parse(readFileSync(this.cachePath, 'utf8')) as CacheFile;
      return c.version === CACHE_VERSION && c.dir === this.dir ? c : undefined;
    } catch {
      return undefined;
    }
  }

  private writeCache(c: CacheFile): void {
    if (!this.cachePath) return;
    try { writeFileAtomicSync(this.cachePath, JSON.stringify(c)); } catch { /* a read-only state dir only costs start-up time */ }
  }

  /**
   * Counts a run: usage_count + 1, success_count and success_rate, last_used. The trace file is
   * not touched: one line goes to the statistics journal (synchronously, so counts from
   * concurrent runs are never lost). Throws ERR_STATE when the journal cannot be written; the
   * in-memory counts are updated anyway.
   */
  async recordRun(signature: string, ok: boolean, at: Date): Promise<Trace | undefined> {
    const rec = this.records.get(signature);
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
    const rec = this.records.get(signature);
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
    const existing = this.records.get(sig);
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
