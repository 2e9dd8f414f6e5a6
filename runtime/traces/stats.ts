/**
 * Run statistics of traces, kept in the state directory and never in the trace files (a trace
 * file is data: shipped, versioned, copied between boards). One JSON line per run is appended
 * to `<state>/trace-stats.jsonl` (O_APPEND, one write per line: a crash loses at most the line
 * being written, and a torn line is skipped on load). The owner of the state directory compacts
 * the journal at start (once it has grown well past one line per trace, or holds a torn line)
 * into one line per trace, written atomically (temp + rename).
 *
 * Counts are deltas on top of the trace file's own statistics (the seed's fields: an imported
 * trace keeps what its source counted). Each line names the base it counted from; when the file's
 * statistics change (an import with --force, an edit), lines of the old base are dropped and the
 * file's values count again.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../../lib/atomic-file.js';
import type { Trace } from './types.js';

/** How many recent outcomes are kept per trace (newest last). */
export const RECENT = 20;

/** Where a state directory keeps the journal. */
export function traceStatsFile(stateDir: string): string {
  return join(stateDir, 'trace-stats.jsonl');
}

/** The statistics a trace file holds itself: [usage_count, success_count]. */
export type StatsBase = [number, number];

export interface TraceRunStats {
  base: StatsBase;
  /** Runs and successes since the base. */
  runs: number;
  successes: number;
  last_used: string;
  /** Recent outcomes, oldest first: "1" success, "0" failure. */
  recent: string;
}

/** One line: a run ({s, b, ok, t}) or a compacted total ({s, b, n, k, t, r}). */
interface Line { s: string; b: StatsBase; ok?: 0 | 1; n?: number; k?: number; t: string; r?: string }

export function baseOf(t: Trace): StatsBase {
  return [t.usage_count, t.success_count ?? Math.round(t.success_rate * t.usage_count)];
}

function sameBase(a: StatsBase, b: StatsBase): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

function isLine(v: unknown): v is Line {
  if (!v || typeof v !== 'object') return false;
  const l = v as Partial<Line>;
  return typeof l.s === 'string' && typeof l.t === 'string' && Array.isArray(l.b) && l.b.length === 2
    && l.b.every((n) => Number.isInteger(n) && n >= 0)
    && (l.ok === 0 || l.ok === 1 || (Number.isInteger(l.n) && Number.isInteger(l.k) && typeof l.r === 'string'));
}

export class TraceStatsJournal {
  readonly file: string;
  private stats = new Map<string, TraceRunStats>();

  constructor(file: string) {
    this.file = file;
  }

  /**
   * Reads the journal. With `compact` (the owner, at start) a journal with more lines than traces
   * (or a torn line) is rewritten as one line per trace.
   */
  load(options: { compact?: boolean } = {}): Map<string, TraceRunStats> {
    let text = '';
    try { text = readFileSync(this.file, 'utf8'); } catch { /* none yet (or unreadable): no runs counted */ }
    const stats = new Map<string, TraceRunStats>();
    let lines = 0;
    let torn = false;
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      lines++;
      let v: unknown;
      try { v = JSON.parse(raw); } catch { torn = true; continue; }
      if (!isLine(v)) { torn = true; continue; }
      let s = stats.get(v.s);
      // A newer base replaces the older one: the file's statistics changed in between.
      if (!s || !sameBase(s.base, v.b)) {
        s = { base: v.b, runs: 0, successes: 0, last_used: v.t, recent: '' };
        stats.set(v.s, s);
      }
      if (v.ok !== undefined) {
        s.runs++;
        s.successes += v.ok;
        s.recent = (s.recent + String(v.ok)).slice(-RECENT);
      } else {
        s.runs += v.n as number;
        s.successes += v.k as number;
        s.recent = (s.recent + (v.r as string)).slice(-RECENT);
      }
      if (v.t > s.last_used) s.last_used = v.t;
    }
    this.stats = stats;
    // Not at every start: a rewrite costs an fsync, and a few lines per trace read just as fast.
    if (options.compact && (torn || lines > 2 * stats.size + 64)) this.compact();
    return stats;
  }

  get(signature: string): TraceRunStats | undefined {
    return this.stats.get(signature);
  }

  all(): ReadonlyMap<string, TraceRunStats> {
    return this.stats;
  }

  /** Appends one run. Throws when the state directory cannot be written (the caller logs it). */
  record(signature: string, base: StatsBase, ok: boolean, at: string): TraceRunStats {
    let s = this.stats.get(signature);
    if (!s || !sameBase(s.base, base)) {
      s = { base, runs: 0, successes: 0, last_used: at, recent: '' };
      this.stats.set(signature, s);
    }
    s.runs++;
    if (ok) s.successes++;
    s.recent = (s.recent + (ok ? '1' : '0')).slice(-RECENT);
    if (at > s.last_used) s.last_used = at;
    const line: Line = { s: signature, b: base, ok: ok ? 1 : 0, t: at };
    this.append(`${JSON.stringify(line)}\n`);
    return s;
  }

  private dirMade = false;

  private append(text: string): void {
    if (!this.dirMade) { mkdirSync(dirname(this.file), { recursive: true }); this.dirMade = true; }
    appendFileSync(this.file, text);
  }

  private compact(): void {
    const out = [...this.stats].map(([s, v]) => JSON.stringify({ s, b: v.base, n: v.runs, k: v.successes, t: v.last_used, r: v.recent } satisfies Line)).join('\n');
    try { writeFileAtomicSync(this.file, out ? `${out}\n` : ''); } catch { /* a read-only state directory: the long journal still reads */ }
  }
}

/**
 * The trace as the runtime sees it: the file's statistics (`base`, read before any merge) plus
 * the runs counted since. Runs counted from another base are ignored.
 */
export function mergeStats(t: Trace, base: StatsBase, s: TraceRunStats | undefined): void {
  if (!s || !sameBase(base, s.base) || s.runs === 0) return;
  const usage = base[0] + s.runs;
  const successes = base[1] + s.successes;
  t.usage_count = usage;
  t.success_count = successes;
  t.success_rate = Math.round((successes / usage) * 10000) / 10000;
  if (!t.last_used || s.last_used > t.last_used) t.last_used = s.last_used;
}
