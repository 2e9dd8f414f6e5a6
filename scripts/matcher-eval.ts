/**
 * Runs the matcher and dispatcher over a labelled evaluation set and counts precision and recall
 * of FOLLOWER decisions. Positives must be served by the expected trace; hard negatives must never
 * be served by the named trace (or, with `expect: null`, by any trace).
 */
import { readFileSync } from 'node:fs';
import { LlmosError } from '../lib/errors.js';
import { parseYaml } from '../lib/yaml-file.js';
import { Dispatcher } from '../runtime/dispatcher.js';
import { goalSignature } from '../runtime/matcher/analyze.js';
import { Matcher } from '../runtime/matcher/matcher.js';
import type { TraceRecord } from '../runtime/trace-types.js';
import { TOOL_UNITS } from '../safety/tools.js';

export interface EvalCase { goal: string; expect?: string | null; not?: string }
export interface EvalSet { traces: Array<{ goal: string; calls: Array<{ name: string; args: Record<string, unknown> }> }>; cases: EvalCase[] }

export interface EvalOutcome {
  goal: string;
  kind: 'paraphrase' | 'negative';
  expected: string | null;
  forbidden?: string;
  mode: string;
  served: string | null;
  score: number;
  correct: boolean;
}

export interface EvalReport {
  cases: number;
  paraphrases: number;
  negatives: number;
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  precision: number;
  recall: number;
  false_follower_on_negatives: number;
  failures: EvalOutcome[];
}

export function loadEvalSet(file: string): EvalSet {
  const doc = parseYaml(readFileSync(file, 'utf8'), file, 'ERR_CONFIG_INVALID') as EvalSet;
  if (!doc || !Array.isArray(doc.traces) || !Array.isArray(doc.cases)) throw new LlmosError('ERR_CONFIG_INVALID', `${file}: needs "traces" and "cases" lists`);
  return doc;
}

export function evaluate(set: EvalSet, thresholds = { follower: 0.92, mixed: 0.75 }): EvalReport {
  const records: TraceRecord[] = set.traces.map((t) => ({
    file: `eval:${t.goal}`,
    format: 'core',
    trace: { goal_signature: goalSignature(t.goal), goal_text: t.goal, success_rate: 1, usage_count: 1, tool_calls: t.calls.map((c) => ({ name: c.name, args: c.args ?? {} })) },
  }));
  const matcher = new Matcher({ unitsFor: (tool, arg) => TOOL_UNITS[tool]?.[arg] });
  matcher.load(records);
  const dispatcher = new Dispatcher(matcher, { followerThreshold: thresholds.follower, mixedThreshold: thresholds.mixed });
  const outcomes: EvalOutcome[] = [];
  let tp = 0; let fp = 0; let fn = 0; let falseOnNeg = 0;
  for (const c of set.cases) {
    const d = dispatcher.decide(c.goal, { allowLlm: false, split: false });
    const served = d.mode === 'FOLLOWER' || d.mode === 'CRYSTALLIZED' ? d.candidate?.trace.goal_text ?? null : null;
    const positive = typeof c.expect === 'string' && c.not === undefined;
    let correct: boolean;
    if (positive) {
      correct = served === c.expect;
      if (correct) tp++; else fn++;
      if (served !== null && !correct) fp++;
    } else {
      const wrong = served !== null && (served === c.not || c.expect === null || (typeof c.expect === 'string' && served !== c.expect));
      correct = !wrong;
      if (wrong) { fp++; falseOnNeg++; } else if (served !== null) tp++;
    }
    outcomes.push({
      goal: c.goal, kind: positive ? 'paraphrase' : 'negative', expected: positive ? (c.expect as string) : (c.expect ?? null),
      ...(c.not ? { forbidden: c.not } : {}), mode: d.mode, served, score: d.score, correct,
    });
  }
  const paraphrases = outcomes.filter((o) => o.kind === 'paraphrase').length;
  return {
    cases: outcomes.length, paraphrases, negatives: outcomes.length - paraphrases,
    true_positives: tp, false_positives: fp, false_negatives: fn,
    precision: tp + fp === 0 ? 1 : round(tp / (tp + fp)),
    recall: paraphrases === 0 ? 1 : round(outcomes.filter((o) => o.kind === 'paraphrase' && o.correct).length / paraphrases),
    false_follower_on_negatives: falseOnNeg,
    failures: outcomes.filter((o) => !o.correct),
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
