/**
 * A trace's matcher model: its analysed goal, the concepts its tools imply, its parameter slots;
 * its JSON form (kept in the trace cache) and the summary the cache's index is built from.
 */
import { fastHash, fnv32 } from '../../lib/hash.js';
import type { IndexSummary, TraceRecord } from '../traces/types.js';
import { analyzeGoal, normalizeGoal, type GoalAnalysis, type Quantity } from './analyze.js';
import { CONCEPTS, IMPLIED_BY_TOOL, PHRASES, POLARITY, POLARITY_ALSO, STOPWORDS, UNITS } from './lexicon.js';
import { serializedSoftTotal, softTotalOf } from './overlap.js';
import { buildSlots, type ParamSlot, type TraceQuantity, type UnitLookup } from './params.js';
import { PHRASAL } from './phrasal.js';
import { SYNONYMS } from './synonyms.generated.js';

export interface TraceModel {
  record: TraceRecord;
  analysis: GoalAnalysis;
  /** Concepts the trace's tools imply but its text does not say. */
  implied: Set<string>;
  /** Text concepts its tools also imply: leaving them out of a goal costs little. */
  soft: Set<string>;
  slots: Map<string, ParamSlot>;
  quantities: TraceQuantity[];
  /** Sum over the trace's concepts of weight x softness. */
  softTotal: number;
  /** concept -> IN_TEXT | SOFT | IMPLIED bits, built on first use by overlapOf. */
  flags?: Map<string, number>;
}

/** The JSON form of a TraceModel (without its record), kept in the trace cache. */
export interface SerializedModel {
  concepts: Array<[string, number]>;
  polarity: Array<[string, string[]]>;
  negated: boolean;
  quantities: Quantity[];
  implied: string[];
  soft: string[];
  slots: ParamSlot[];
  traceQuantities: Array<{ q: number; slot?: string }>;
}

/** Set by scripts/bundle.mjs (esbuild define) to the value lexiconFingerprint() has at build time. */
declare const LLMOS_LEXICON_KEY: string | undefined;
let lexiconHash: string | undefined;
/**
 * Identifies the lexicon a cached model was built with. Hashing ~300 kB of JSON costs ~5 ms and
 * makes V8 optimise fastHash (TurboFan's code pages: ~3.5 MB of RSS) at every start, so the
 * bundles carry the value computed when they were built from these same modules.
 */
export function lexiconFingerprint(): string {
  lexiconHash ??= typeof LLMOS_LEXICON_KEY === 'string' ? LLMOS_LEXICON_KEY : computeLexiconFingerprint();
  return lexiconHash;
}

export function computeLexiconFingerprint(): string {
  return fastHash(JSON.stringify([CONCEPTS, POLARITY, POLARITY_ALSO, PHRASES, PHRASAL, STOPWORDS, UNITS, IMPLIED_BY_TOOL, SYNONYMS, 9]));
}

/** The index as the trace cache persisted it (runtime/traces/cache.ts), docs in records' order. */
export interface MatcherSnapshot {
  keys: readonly string[];
  post: readonly number[][];
  impl: readonly number[][];
  w: ArrayLike<number>;
  nh: ArrayLike<number>;
  sigs: readonly string[];
}

export function buildTraceModel(record: TraceRecord, unitsFor: UnitLookup, conceptOfName: (name: string) => string[]): TraceModel {
  const analysis = analyzeGoal(record.trace.goal_text);
  const byTools = new Set<string>();
  for (const step of record.trace.tool_calls) {
    for (const c of IMPLIED_BY_TOOL[step.name] ?? []) byTools.add(c);
    for (const key of ['actuator', 'sensor']) {
      const v = step.args?.[key];
      if (typeof v === 'string') for (const c of conceptOfName(v)) byTools.add(c);
    }
    // A gripper acts on what it holds: "release the object" asks what "open the gripper" does.
    if (step.name === 'servo_move' && typeof step.args?.['actuator'] === 'string' && conceptOfName(step.args['actuator'] as string).includes('GRIPPER')) byTools.add('OBJECT');
    // Writing a non-zero output switches it on: "activate the buzzer" asks what "sound the buzzer" does.
    const out = step.args?.['value'] ?? step.args?.['duty'] ?? step.args?.['speed'];
    if ((step.name === 'digital_write' || step.name === 'pwm_write' || step.name === 'motor_set') && out !== undefined && out !== false && out !== 0) byTools.add('ACT:ON');
  }
  const implied = new Set([...byTools].filter((c) => !analysis.concepts.has(c)));
  const soft = new Set([...analysis.concepts.keys()].filter((c) => byTools.has(c)));
  const { slots, quantities } = buildSlots(record.trace, analysis, unitsFor);
  return { record, analysis, implied, soft, slots, quantities, softTotal: softTotalOf(analysis, soft) };
}
export function serializeModel(m: TraceModel): SerializedModel {
  return {
    concepts: [...m.analysis.concepts],
    polarity: [...m.analysis.polarity].map(([k, v]) => [k, [...v]]),
    negated: m.analysis.negated,
    quantities: m.analysis.quantities,
    implied: [...m.implied],
    soft: [...m.soft],
    slots: [...m.slots.values()],
    traceQuantities: m.quantities.map((tq) => ({ q: m.analysis.quantities.indexOf(tq.q), ...(tq.slot ? { slot: tq.slot } : {}) })),
  };
}
export function restoreModel(record: TraceRecord, s: SerializedModel): TraceModel {
  const concepts = new Map(s.concepts);
  let total = 0;
  for (const w of concepts.values()) total += w;
  const text = record.trace.goal_text;
  const analysis: GoalAnalysis = {
    text, normalized: normalizeGoal(text), concepts, polarity: new Map(s.polarity.map(([k, v]) => [k, new Set(v)])),
    negated: s.negated, quantities: s.quantities, total,
  };
  const soft = new Set(s.soft);
  const quantities = s.traceQuantities.map((tq) => ({ q: s.quantities[tq.q] as Quantity, ...(tq.slot ? { slot: tq.slot } : {}) }));
  return { record, analysis, implied: new Set(s.implied), soft, slots: new Map(s.slots.map((x) => [x.name, x])), quantities, softTotal: softTotalOf(analysis, soft) };
}
/** What the cache keeps of a model so the index can be built without it (IndexSummary). */
export function summarizeModel(record: TraceRecord, s: SerializedModel): Omit<IndexSummary, 'sig'> {
  return { nh: fnv32(normalizeGoal(record.trace.goal_text)), weight: serializedSoftTotal(s), keys: s.concepts.map((c) => c[0]), implied: s.implied };
}
export function defaultConceptOfName(name: string): string[] {
  const a = analyzeGoal(name.replace(/_/g, ' '));
  const out = [...a.concepts.keys()].filter((c) => !c.startsWith('w:'));
  if (out.includes('BUZZER')) out.push('BEEP');
  return out;
}
