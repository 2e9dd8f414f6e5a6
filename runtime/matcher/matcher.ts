/**
 * Semantic matching of goals to traces, offline and deterministic. The score is a weighted Dice
 * overlap of concepts (synonyms folded, generic words light, critical words heavy), then:
 *  - a conflict in a critical word (left/right, open/close, on/off, ...) or a negation caps the
 *    score at 0.6 of itself: never even MIXED;
 *  - a number that does not bind (a literal that differs, a missing or extra number) caps it at
 *    0.9 of itself: at most MIXED, never a FOLLOWER replay.
 * So the seed's thresholds mean what they say: > 0.92 the trace can replay with its parameters
 * bound; 0.75..0.92 it is a plan worth adapting; below, it is a different task.
 */
import type { Trace, TraceRecord } from '../trace-types.js';
import { analyzeGoal, conflicts, type GoalAnalysis } from './analyze.js';
import { IMPLIED_BY_TOOL } from './lexicon.js';
import { bindQuantities, buildSlots, type ParamSlot, type TraceQuantity, type UnitLookup } from './params.js';

/** How much a trace-side concept the goal leaves out counts when the trace's tools imply it. */
const IMPLIED_SOFTNESS = 0.1;
const CONFLICT_FACTOR = 0.6;
const UNBOUND_FACTOR = 0.9;
const SHORTLIST = 24;

export interface TraceModel {
  record: TraceRecord;
  analysis: GoalAnalysis;
  implied: Set<string>;
  slots: Map<string, ParamSlot>;
  quantities: TraceQuantity[];
  /** Sum over the trace's concepts of weight x softness. */
  softTotal: number;
}

export interface Candidate {
  model: TraceModel;
  trace: Trace;
  score: number;
  /** Concept overlap before caps. */
  overlap: number;
  params: Record<string, number>;
  /** Why the score was capped: conflicts and unbound numbers. */
  reasons: string[];
  exact: boolean;
}

export interface MatchResult {
  goal: GoalAnalysis;
  /** Best first; at most `limit`. */
  candidates: Candidate[];
}

export class Matcher {
  private models: TraceModel[] = [];
  private readonly bySignature = new Map<string, number>();
  private readonly byNormalized = new Map<string, number[]>();
  /** concept -> postings of [model index, weight x softness] for concepts in the trace text. */
  private postings = new Map<string, Array<[number, number]>>();
  /** concept -> model indexes whose tools imply it (but whose text does not say it). */
  private impliedPostings = new Map<string, number[]>();
  private accCommon = new Float64Array(0);
  private accSoft = new Float64Array(0);
  private accImplied = new Float64Array(0);
  private accStrong = new Float64Array(0);
  private readonly unitsFor: UnitLookup;
  private readonly conceptOfName: (name: string) => string[];

  constructor(options: { unitsFor: UnitLookup; conceptOfName?: (name: string) => string[] }) {
    this.unitsFor = options.unitsFor;
    const lookup = options.conceptOfName ?? defaultConceptOfName;
    const memo = new Map<string, string[]>();
    this.conceptOfName = (name) => {
      let c = memo.get(name);
      if (!c) { c = lookup(name); memo.set(name, c); }
      return c;
    };
  }

  get size(): number {
    return this.models.length;
  }

  /** Replaces the whole index (boot, reload). */
  load(records: readonly TraceRecord[]): void {
    this.models = [];
    this.bySignature.clear();
    this.byNormalized.clear();
    this.postings = new Map();
    this.impliedPostings = new Map();
    for (const r of records) this.addModel(this.buildModel(r));
    this.resizeAccumulators();
  }

  /** Adds or replaces one trace (learning, hot reload). */
  upsert(record: TraceRecord): void {
    const existing = this.bySignature.get(record.trace.goal_signature);
    if (existing !== undefined) {
      const records = this.models.map((m) => m.record);
      records[existing] = record;
      this.load(records);
      return;
    }
    this.addModel(this.buildModel(record));
    this.resizeAccumulators();
  }

  remove(signature: string): boolean {
    const i = this.bySignature.get(signature);
    if (i === undefined) return false;
    this.load(this.models.filter((_, k) => k !== i).map((m) => m.record));
    return true;
  }

  modelOf(signature: string): TraceModel | undefined {
    const i = this.bySignature.get(signature);
    return i === undefined ? undefined : this.models[i];
  }

  buildModel(record: TraceRecord): TraceModel {
    const analysis = analyzeGoal(record.trace.goal_text);
    const implied = new Set<string>();
    for (const step of record.trace.tool_calls) {
      for (const c of IMPLIED_BY_TOOL[step.name] ?? []) implied.add(c);
      for (const key of ['actuator', 'sensor']) {
        const v = step.args?.[key];
        if (typeof v === 'string') for (const c of this.conceptOfName(v)) implied.add(c);
      }
    }
    for (const c of analysis.concepts.keys()) implied.delete(c);
    const { slots, quantities } = buildSlots(record.trace, analysis, this.unitsFor);
    let softTotal = 0;
    for (const [c, w] of analysis.concepts) softTotal += w * (impliedByTools(record.trace, c, this.conceptOfName) ? IMPLIED_SOFTNESS : 1);
    return { record, analysis, implied, slots, quantities, softTotal };
  }

  private addModel(model: TraceModel): void {
    const idx = this.models.length;
    this.models.push(model);
    this.bySignature.set(model.record.trace.goal_signature, idx);
    const list = this.byNormalized.get(model.analysis.normalized) ?? [];
    list.push(idx);
    this.byNormalized.set(model.analysis.normalized, list);
    for (const [c, w] of model.analysis.concepts) {
      const soft = impliedByTools(model.record.trace, c, this.conceptOfName) ? IMPLIED_SOFTNESS : 1;
      let p = this.postings.get(c);
      if (!p) { p = []; this.postings.set(c, p); }
      p.push([idx, w * soft]);
    }
    for (const c of model.implied) {
      let p = this.impliedPostings.get(c);
      if (!p) { p = []; this.impliedPostings.set(c, p); }
      p.push(idx);
    }
  }

  private resizeAccumulators(): void {
    const n = this.models.length;
    if (this.accCommon.length < n) {
      this.accCommon = new Float64Array(n);
      this.accSoft = new Float64Array(n);
      this.accImplied = new Float64Array(n);
      this.accStrong = new Float64Array(n);
    }
  }

  match(goalText: string, limit = 5): MatchResult {
    const goal = analyzeGoal(goalText);
    const touched: number[] = [];
    const touch = (i: number): void => {
      if (this.accCommon[i] === 0 && this.accImplied[i] === 0 && this.accSoft[i] === 0) touched.push(i);
    };
    for (const [c, w] of goal.concepts) {
      for (const [i, soft] of this.postings.get(c) ?? []) {
        touch(i);
        this.accCommon[i] = (this.accCommon[i] as number) + w;
        this.accSoft[i] = (this.accSoft[i] as number) + soft;
        if (w >= 1) this.accStrong[i] = (this.accStrong[i] as number) + w;
      }
      for (const i of this.impliedPostings.get(c) ?? []) {
        touch(i);
        this.accImplied[i] = (this.accImplied[i] as number) + w;
      }
    }
    const exact = this.byNormalized.get(goal.normalized) ?? [];
    for (const i of exact) if (!touched.includes(i)) touched.push(i);

    const shortlist: Array<{ i: number; overlap: number }> = [];
    for (const i of touched) {
      const model = this.models[i] as TraceModel;
      const matched = (this.accCommon[i] as number) + (this.accImplied[i] as number);
      const goalOnly = Math.max(0, goal.total - matched);
      // Trace words its tools imply weigh less when left out, but only once the goal shares
      // something substantive with the trace: "open" may mean "open the gripper"; "move" alone
      // does not mean "move the arm".
      const traceOnly = (this.accStrong[i] as number) > 0
        ? Math.max(0, model.softTotal - (this.accSoft[i] as number))
        : Math.max(0, model.analysis.total - (this.accCommon[i] as number));
      const denom = 2 * matched + goalOnly + traceOnly;
      const overlap = denom > 0 ? (2 * matched) / denom : 0;
      shortlist.push({ i, overlap });
      this.accCommon[i] = 0;
      this.accSoft[i] = 0;
      this.accImplied[i] = 0;
      this.accStrong[i] = 0;
    }
    shortlist.sort((a, b) => b.overlap - a.overlap || a.i - b.i);
    const exactSet = new Set(exact);

    const candidates: Candidate[] = [];
    for (const { i, overlap } of shortlist.slice(0, Math.max(SHORTLIST, limit))) {
      candidates.push(this.score(goal, this.models[i] as TraceModel, exactSet.has(i) ? 1 : overlap, exactSet.has(i)));
    }
    candidates.sort(compareCandidates);
    return { goal, candidates: candidates.slice(0, limit) };
  }

  /** Scores one model against an analysed goal (also used to explain a refusal). */
  score(goal: GoalAnalysis, model: TraceModel, overlap: number, exact = false): Candidate {
    const reasons: string[] = [];
    let score = overlap;
    const conflict = conflicts(goal, model.analysis);
    if (conflict.length > 0) {
      score *= CONFLICT_FACTOR;
      reasons.push(...conflict.map((c) => `critical word differs (${c})`));
    }
    const binding = bindQuantities(goal, model.quantities, model.slots);
    if (binding.issues.length > 0) {
      score *= UNBOUND_FACTOR;
      reasons.push(...binding.issues);
    }
    return {
      model, trace: model.record.trace, score: round(score), overlap: round(overlap),
      params: binding.params, reasons, exact: exact && reasons.length === 0,
    };
  }
}

function compareCandidates(a: Candidate, b: Candidate): number {
  return b.score - a.score
    || Number(b.exact) - Number(a.exact)
    || b.trace.success_rate - a.trace.success_rate
    || b.trace.usage_count - a.trace.usage_count
    || a.trace.goal_signature.localeCompare(b.trace.goal_signature);
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function defaultConceptOfName(name: string): string[] {
  const a = analyzeGoal(name.replace(/_/g, ' '));
  const out = [...a.concepts.keys()].filter((c) => !c.startsWith('w:'));
  if (out.includes('BUZZER')) out.push('BEEP');
  return out;
}

function impliedByTools(trace: Trace, concept: string, conceptOfName: (n: string) => string[]): boolean {
  for (const step of trace.tool_calls) {
    if ((IMPLIED_BY_TOOL[step.name] ?? []).includes(concept)) return true;
    for (const key of ['actuator', 'sensor']) {
      const v = step.args?.[key];
      if (typeof v === 'string' && conceptOfName(v).includes(concept)) return true;
    }
  }
  return false;
}
