/**
 * Runs the dispatcher (as run-follower decides: splitting, stop words, non-commands) over a
 * labelled evaluation set and counts precision and recall per category. Positives must be served
 * by the expected trace (a list of traces for a multi-step goal, a mode for stop words); negatives
 * must never be served by the named trace (`not:`) or, with `expect: null`, by any trace.
 *
 * Two formats: the original one (inline `traces` and flat `cases`), and `traces_dir` (trace files,
 * relative to the set) with `groups` of goals sharing a category and an expectation.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LlmosError } from '../lib/errors.js';
import { parseYaml } from '../lib/yaml-file.js';
import { Dispatcher, type Decision } from '../runtime/dispatcher.js';
import { goalSignature } from '../runtime/matcher/analyze.js';
import { Matcher } from '../runtime/matcher/matcher.js';
import { TraceStore } from '../runtime/traces/store.js';
import type { TraceRecord } from '../runtime/traces/types.js';
import { TOOL_UNITS } from '../safety/tools/index.js';

export interface EvalCase { goal: string; expect?: string | string[] | null; not?: string; cat?: string; expect_mode?: string }
export interface EvalGroup { cat: string; goals: string[]; expect?: string | string[] | null; not?: string; expect_mode?: string }
export interface EvalSet {
  traces?: Array<{ goal: string; calls: Array<{ name: string; args: Record<string, unknown> }> }>;
  traces_dir?: string;
  cases?: EvalCase[];
  groups?: EvalGroup[];
  /** Filled by loadEvalSet: the file's directory, for traces_dir. */
  base?: string;
}

/** Categories whose goals must be served; every other category is a negative. */
const POSITIVE = new Set(['paraphrase', 'unit', 'compound', 'stop', 'typo']);

export interface EvalOutcome {
  goal: string;
  cat: string;
  kind: 'paraphrase' | 'negative';
  expected: string | string[] | null;
  forbidden?: string;
  mode: string;
  served: string | string[] | null;
  score: number;
  correct: boolean;
  message?: string;
}

export interface CategoryReport { cases: number; correct: number; rate: number; false_replays: number }

export interface EvalReport {
  cases: number;
  paraphrases: number;
  negatives: number;
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  /** Over every served goal (typos included). */
  precision: number;
  /** Positives without typos (typos are reported apart). */
  recall: number;
  typo_recall: number | null;
  false_follower_on_negatives: number;
  categories: Record<string, CategoryReport>;
  failures: EvalOutcome[];
}

export function loadEvalSet(file: string): EvalSet {
  const doc = parseYaml(readFileSync(file, 'utf8'), file, 'ERR_CONFIG_INVALID') as EvalSet;
  const hasTraces = doc && (Array.isArray(doc.traces) || typeof doc.traces_dir === 'string');
  const hasCases = doc && (Array.isArray(doc.cases) || Array.isArray(doc.groups));
  if (!hasTraces || !hasCases) throw new LlmosError('ERR_CONFIG_INVALID', `${file}: needs "traces" or "traces_dir", and "cases" or "groups"`);
  return { ...doc, base: dirname(resolve(file)) };
}

export function recordsOf(set: EvalSet): TraceRecord[] {
  if (set.traces_dir !== undefined) {
    const store = new TraceStore({ dir: resolve(set.base ?? '.', set.traces_dir) });
    const report = store.load();
    if (report.errors.length > 0) throw new LlmosError('ERR_CONFIG_INVALID', `eval traces: ${report.errors.map((e) => e.message).join('; ')}`);
    return store.all();
  }
  return (set.traces ?? []).map((t) => ({
    file: `eval:${t.goal}`,
    format: 'core',
    trace: { goal_signature: goalSignature(t.goal), goal_text: t.goal, success_rate: 1, usage_count: 1, tool_calls: t.calls.map((c) => ({ name: c.name, args: c.args ?? {} })) },
  }));
}

export function casesOf(set: EvalSet): EvalCase[] {
  const out: EvalCase[] = [...(set.cases ?? [])];
  for (const g of set.groups ?? []) {
    for (const goal of g.goals) {
      out.push({
        goal: String(goal), cat: g.cat,
        ...(g.expect !== undefined ? { expect: g.expect } : POSITIVE.has(g.cat) || g.not !== undefined ? {} : { expect: null }),
        ...(g.not !== undefined ? { not: g.not } : {}), ...(g.expect_mode !== undefined ? { expect_mode: g.expect_mode } : {}),
      });
    }
  }
  return out;
}

function servedBy(d: Decision): string | string[] | null {
  if (d.mode === 'FOLLOWER' || d.mode === 'CRYSTALLIZED') return d.candidate?.trace.goal_text ?? null;
  if (d.mode === 'ORCHESTRATOR') return (d.parts ?? []).map((p) => p.candidate?.trace.goal_text ?? '?');
  return null;
}

function same(a: string | string[] | null, b: string | string[] | null | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b ?? null);
}

export function evaluate(set: EvalSet, thresholds = { follower: 0.92, mixed: 0.75 }): EvalReport {
  const matcher = new Matcher({ unitsFor: (tool, arg) => TOOL_UNITS[tool]?.[arg] });
  matcher.load(recordsOf(set));
  const dispatcher = new Dispatcher(matcher, { followerThreshold: thresholds.follower, mixedThreshold: thresholds.mixed });
  const outcomes: EvalOutcome[] = [];
  let tp = 0; let fp = 0; let fn = 0; let falseOnNeg = 0;
  for (const c of casesOf(set)) {
    const d = dispatcher.decide(c.goal, { allowLlm: false });
    const served = servedBy(d);
    const cat = c.cat ?? (typeof c.expect === 'string' && c.not === undefined ? 'paraphrase' : 'negative');
    const positive = c.expect_mode !== undefined || ((typeof c.expect === 'string' || Array.isArray(c.expect)) && c.not === undefined);
    let correct: boolean;
    if (c.expect_mode !== undefined) {
      correct = d.mode === c.expect_mode;
      if (correct) tp++; else fn++;
      if (served !== null) fp++;
    } else if (positive) {
      correct = same(served, c.expect);
      if (correct) tp++; else fn++;
      if (served !== null && !correct) fp++;
    } else {
      const wrong = served !== null && (same(served, c.not ?? null) || c.expect === null || (c.expect !== undefined && !same(served, c.expect)));
      correct = !wrong;
      if (wrong) { fp++; falseOnNeg++; } else if (served !== null) tp++;
    }
    outcomes.push({
      goal: c.goal, cat, kind: positive ? 'paraphrase' : 'negative', expected: positive ? (c.expect_mode ?? c.expect ?? null) : (c.expect ?? null),
      ...(c.not ? { forbidden: c.not } : {}), mode: d.mode, served, score: d.score, correct,
      ...(d.error ? { message: d.error.message } : {}),
    });
  }
  const categories: Record<string, CategoryReport> = {};
  for (const o of outcomes) {
    const r = categories[o.cat] ??= { cases: 0, correct: 0, rate: 0, false_replays: 0 };
    r.cases++;
    if (o.correct) r.correct++;
    if (o.kind === 'negative' && !o.correct) r.false_replays++;
  }
  for (const r of Object.values(categories)) r.rate = round(r.correct / r.cases);
  const positives = outcomes.filter((o) => o.kind === 'paraphrase' && o.cat !== 'typo');
  const typos = outcomes.filter((o) => o.kind === 'paraphrase' && o.cat === 'typo');
  return {
    cases: outcomes.length, paraphrases: positives.length + typos.length, negatives: outcomes.length - positives.length - typos.length,
    true_positives: tp, false_positives: fp, false_negatives: fn,
    precision: tp + fp === 0 ? 1 : round(tp / (tp + fp)),
    recall: positives.length === 0 ? 1 : round(positives.filter((o) => o.correct).length / positives.length),
    typo_recall: typos.length === 0 ? null : round(typos.filter((o) => o.correct).length / typos.length),
    false_follower_on_negatives: falseOnNeg,
    categories,
    failures: outcomes.filter((o) => !o.correct),
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
