/**
 * Semantic matching of goals to traces, offline and deterministic. The score is a weighted Dice
 * overlap of concepts (synonyms folded, generic words light, critical words heavy), then:
 *  - a conflict in a critical word (left/right, open/close, on/off, ...) or a negation caps the
 *    score at 0.6 of itself: never even MIXED;
 *  - a number that does not bind (a literal that differs, a missing or extra number) caps it at
 *    0.9 of itself: at most MIXED, never a FOLLOWER replay.
 * So the seed's thresholds mean what they say: > 0.92 the trace can replay with its parameters
 * bound; 0.75..0.92 it is a plan worth adapting; below, it is a different task.
 *
 * Speed: candidates come from a weighted AND over concept posting lists with top-k bounds
 * (runtime/matcher/wand.ts): only traces that can still reach the MIXED floor, or beat the
 * shortlist, are scored. Models are serialisable, so the trace cache keeps them across boots.
 */
import { fnv32 } from '../../lib/hash.js';
import type { IndexSummary, Trace, TraceRecord } from '../traces/types.js';
import { analyzeGoal, conflicts, guardedWords, lexiconVocabulary, meaningOfWord, normalizeGoal, type GoalAnalysis, type SpellCheck } from './analyze.js';
import { isCommonWord, isEnglishWord } from './english.js';
import { buildTraceModel, defaultConceptOfName, lexiconFingerprint, restoreModel, serializeModel, summarizeModel, type MatcherSnapshot, type SerializedModel, type TraceModel } from './model.js';
import { goalVector, overlapOf, serializedSoftTotal } from './overlap.js';
import { bindQuantities, type UnitLookup } from './params.js';
import { Speller } from './typos.js';
import { mergeSorted, push, pushDoc, wand } from './wand.js';

export { goalVector, overlapOf, type GoalVector } from './overlap.js';
export { computeLexiconFingerprint, lexiconFingerprint, type MatcherSnapshot, type SerializedModel, type TraceModel } from './model.js';

const CONFLICT_FACTOR = 0.6;
const UNBOUND_FACTOR = 0.9;
const SHORTLIST = 12;
/** Traces scoring below this overlap need not be found (the MIXED threshold's default). */
const RECALL_FLOOR = 0.75;
/** For naming the nearest traces of a refused goal: how low to look, and how many traces at most. */
const NEAREST_FLOOR = 0.2;
const NEAREST_BUDGET = 4000;
const NEAREST_SHARED = 64;

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

export interface MatcherOptions {
  unitsFor: UnitLookup;
  /** Identifies the unit table, so cached models built with another one are not reused. */
  unitsKey?: string;
  conceptOfName?: (name: string) => string[];
}

/**
 * A trace in the index: its model, or the serialised form it is built from when first needed, or
 * (from the trace cache's header) only its index summary, with the model read when first needed.
 */
interface Entry {
  record: TraceRecord;
  model?: TraceModel;
  serialized?: SerializedModel;
  summary?: IndexSummary;
  lazy?: () => SerializedModel | undefined;
  /** Its signature when the record is not read yet (from a snapshot). */
  sig?: string;
}

export class Matcher {
  private entries: Array<Entry | undefined> = [];
  private readonly bySignature = new Map<string, number>();
  /** A snapshot's signatures not yet in bySignature (indexed on first use: most runs never look). */
  private unindexedSigs: readonly string[] | undefined;
  /**
   * fnv32 of the normalised text -> its trace (a number: most texts are one trace's) or traces;
   * a hit is verified against the model's text (a collision is not an exact match).
   */
  private readonly byNormalized = new Map<number, number | number[]>();
  /** Where entries not made yet come from (a snapshot: one object per trace only once used). */
  private pending: { recordAt: (doc: number) => TraceRecord | undefined; sigs: readonly string[]; cached: (record: TraceRecord) => SerializedModel | undefined } | undefined;
  /** concept -> traces whose text has it. */
  private postings = new Map<string, number[]>();
  /** concept -> traces whose tools imply it (but whose text does not say it). */
  private impliedPostings = new Map<string, number[]>();
  /** concept -> sorted traces having it in text or by tools (the WAND lists), built on first use. */
  private lists = new Map<string, number[]>();
  /** Each trace's own concept weight (soft concepts a tenth): bounds its overlap before scoring. */
  private traceWeight: number[] = [];
  /** Built on the first unknown word of a goal: the lexicon plus the loaded traces' own words. */
  private speller: Speller | undefined;
  private readonly spellCheck: SpellCheck = {
    has: (word) => this.postings.has(`w:${word}`),
    correct: (word) => {
      this.speller ??= new Speller({
        words: [...lexiconVocabulary(), ...[...this.postings.keys()].filter((k) => k.startsWith('w:')).map((k) => k.slice(2))],
        meaningOf: meaningOfWord,
        isWord: isEnglishWord,
        isCommonWord,
        guarded: guardedWords(),
      });
      return this.speller.correct(word);
    },
  };
  private readonly unitsFor: UnitLookup;
  private readonly conceptOfName: (name: string) => string[];
  /** Cached models are valid only for the same lexicon and unit table. */
  readonly modelKey: string;
  /** How many traces had their overlap computed (the bench shows the index prunes). */
  readonly stats = { matches: 0, scored: 0 };

  constructor(options: MatcherOptions) {
    this.unitsFor = options.unitsFor;
    this.modelKey = `${lexiconFingerprint()}:${options.unitsKey ?? 'default'}`;
    const lookup = options.conceptOfName ?? defaultConceptOfName;
    const memo = new Map<string, string[]>();
    this.conceptOfName = (name) => {
      let c = memo.get(name);
      if (!c) { c = lookup(name); memo.set(name, c); }
      return c;
    };
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Replaces the whole index (boot, reload). `cached` supplies serialised models where valid;
   * those are indexed as they are and turned into models only when a goal first touches them.
   */
  /**
   * `summaryOf` gives a trace's index summary without reading the trace (the cache's header):
   * such a trace is indexed from it and its model read through `cached` when first scored.
   */
  load(records: readonly TraceRecord[], cached?: (record: TraceRecord) => SerializedModel | undefined, summaryOf?: (record: TraceRecord) => IndexSummary | undefined): void {
    this.reset();
    for (const record of records) {
      const summary = summaryOf?.(record);
      if (summary) {
        this.addEntry({ record, summary, ...(cached ? { lazy: () => cached(record) } : {}) }, summary.keys, summary.implied);
        continue;
      }
      const serialized = cached?.(record);
      if (serialized) this.addEntry({ record, serialized }, serialized.concepts.map((c) => c[0]), serialized.implied);
      else this.addModel(this.buildModel(record));
    }
  }

  /**
   * Takes the index as persisted (the trace cache's, built when the traces last changed):
   * posting lists are used as they are; doc d is `recordAt(d)`, asked for (and its model read
   * through `cached`) only when a goal first scores it. At 10k traces this replaces ~60 ms of building with a few ms.
   */
  loadSnapshot(snap: MatcherSnapshot, recordAt: (doc: number) => TraceRecord | undefined, cached: (record: TraceRecord) => SerializedModel | undefined): void {
    this.reset();
    this.entries = new Array<Entry | undefined>(snap.sigs.length);
    this.pending = { recordAt, sigs: snap.sigs, cached };
    this.unindexedSigs = snap.sigs;
    this.traceWeight = Array.from(snap.w);
    for (let d = 0; d < snap.nh.length; d++) pushDoc(this.byNormalized, snap.nh[d] as number, d);
    snap.keys.forEach((k, i) => {
      if ((snap.post[i] as number[]).length > 0) this.postings.set(k, snap.post[i] as number[]);
      if ((snap.impl[i] as number[]).length > 0) this.impliedPostings.set(k, snap.impl[i] as number[]);
    });
  }

  private reset(): void {
    this.entries = [];
    this.pending = undefined;
    this.bySignature.clear();
    this.unindexedSigs = undefined;
    this.byNormalized.clear();
    this.postings = new Map();
    this.impliedPostings = new Map();
    this.lists = new Map();
    this.traceWeight = [];
    this.speller = undefined;
  }



  /** Adds or replaces one trace (learning, hot reload). */
  upsert(record: TraceRecord): void {
    const existing = this.signatures().get(record.trace.goal_signature);
    if (existing !== undefined) {
      const kept = this.allEntries().map((e, i) => (i === existing ? { record } : e));
      this.reindex(kept);
      return;
    }
    this.addModel(this.buildModel(record));
    this.lists = new Map();
    this.speller = undefined;
  }

  remove(signature: string): boolean {
    const i = this.signatures().get(signature);
    if (i === undefined) return false;
    this.reindex(this.allEntries().filter((_, k) => k !== i));
    return true;
  }

  /** Rebuilds the index from entries kept as they are (models, serialised forms or summaries). */
  private reindex(entries: Entry[]): void {
    this.reset();
    for (const e of entries) {
      if (e.model) this.addEntry(e, e.model.analysis.concepts.keys(), e.model.implied);
      else if (e.serialized) this.addEntry(e, e.serialized.concepts.map((c) => c[0]), e.serialized.implied);
      else if (e.summary) this.addEntry(e, e.summary.keys, e.summary.implied);
      else if (e.lazy) { const m = this.modelAtEntry(e); this.addEntry(e, m.analysis.concepts.keys(), m.implied); }
      else this.addModel(this.buildModel(e.record));
    }
  }

  modelOf(signature: string): TraceModel | undefined {
    const i = this.signatures().get(signature);
    return i === undefined ? undefined : this.modelAt(i);
  }

  private modelAt(i: number): TraceModel {
    return this.modelAtEntry(this.entryAt(i));
  }

  private signatures(): Map<string, number> {
    const pending = this.unindexedSigs;
    if (pending) {
      this.unindexedSigs = undefined;
      pending.forEach((sig, d) => { if (!this.bySignature.has(sig)) this.bySignature.set(sig, d); });
    }
    return this.bySignature;
  }

  private entryAt(i: number): Entry {
    let e = this.entries[i];
    if (!e) {
      const p = this.pending;
      const record = p?.recordAt(i);
      if (!p || !record) throw new Error(`matcher: no trace ${i}`);
      e = { record, sig: p.sigs[i] as string, lazy: () => p.cached(record) };
      this.entries[i] = e;
    }
    return e;
  }

  private allEntries(): Entry[] {
    return Array.from({ length: this.entries.length }, (_, i) => this.entryAt(i));
  }

  private modelAtEntry(e: Entry): TraceModel {
    if (!e.model) {
      const s = e.serialized ?? e.lazy?.();
      e.model = s ? restoreModel(e.record, s) : this.buildModel(e.record);
      delete e.serialized;
      delete e.lazy;
    }
    return e.model;
  }







  /** What the cache keeps of a model so the index can be built without it (IndexSummary). */
  summarize(record: TraceRecord, s: SerializedModel): Omit<IndexSummary, 'sig'> {
    return summarizeModel(record, s);
  }

  buildModel(record: TraceRecord): TraceModel {
    return buildTraceModel(record, this.unitsFor, this.conceptOfName);
  }

  serialize(m: TraceModel): SerializedModel {
    return serializeModel(m);
  }

  private addModel(model: TraceModel): void {
    this.addEntry({ record: model.record, model }, model.analysis.concepts.keys(), model.implied);
  }

  private addEntry(entry: Entry, concepts: Iterable<string>, implied: Iterable<string>): void {
    const idx = this.entries.length;
    this.entries.push(entry);
    this.traceWeight[idx] = entry.model ? entry.model.softTotal : entry.serialized ? serializedSoftTotal(entry.serialized) : entry.summary?.weight ?? 0;
    this.signatures().set(entry.summary?.sig ?? entry.sig ?? entry.record.trace.goal_signature, idx);
    pushDoc(this.byNormalized, entry.summary?.nh ?? fnv32(entry.model?.analysis.normalized ?? normalizeGoal(entry.record.trace.goal_text)), idx);
    for (const c of concepts) push(this.postings, c, idx);
    for (const c of implied) push(this.impliedPostings, c, idx);
  }

  match(goalText: string, limit = 5): MatchResult {
    const goal = analyzeGoal(goalText, this.spellCheck);
    this.stats.matches++;
    const same = this.byNormalized.get(fnv32(goal.normalized));
    const exact = (same === undefined ? [] : typeof same === 'number' ? [same] : same).filter((i) => this.modelAt(i).analysis.normalized === goal.normalized);
    const keep = Math.max(SHORTLIST, limit);
    const vector = goalVector(goal);
    // The best `keep` overlaps, in a small sorted array (ties keep the earlier trace).
    const top: Array<{ i: number; overlap: number }> = [];
    const inserted = new Set<number>();
    const insert = (i: number, overlap: number): void => {
      if (inserted.has(i)) return;
      inserted.add(i);
      if (top.length === keep && overlap <= (top[keep - 1] as { overlap: number }).overlap) return;
      let k = top.length;
      while (k > 0 && ((top[k - 1] as { overlap: number }).overlap < overlap || ((top[k - 1] as { overlap: number }).overlap === overlap && (top[k - 1] as { i: number }).i > i))) k--;
      top.splice(k, 0, { i, overlap });
      if (top.length > keep) top.pop();
    };
    for (const i of exact) insert(i, 1);
    const lists = [...goal.concepts].map(([c, weight]) => ({ docs: this.conceptList(c), weight })).filter((l) => l.docs.length > 0);
    const search = (floor: number, budget: number): void => {
      let visits = 0;
      wand(lists, goal.total, floor, (doc, matched) => {
        const current = top.length === keep ? Math.max(floor, (top[keep - 1] as { overlap: number }).overlap) : floor;
        if (++visits > budget) return 1;
        // Cheap bound with the trace's own weight before the exact overlap.
        const own = this.traceWeight[doc] ?? 0;
        const bound = (2 * matched) / (2 * matched + (goal.total - matched) + Math.max(0, own - matched));
        if (bound < current || exact.includes(doc)) return current;
        this.stats.scored++;
        insert(doc, overlapOf(vector, this.modelAt(doc)));
        return top.length === keep ? Math.max(floor, (top[keep - 1] as { overlap: number }).overlap) : floor;
      });
    };
    search(RECALL_FLOOR, Infinity);
    // Nothing that could be adapted: still name the nearest traces (a bounded, lower search), so
    // "nothing in common" is said only when it is true.
    if (top.length < limit) search(NEAREST_FLOOR, NEAREST_BUDGET);
    if (top.length === 0) {
      // Still nothing: a few traces sharing the goal's rarest concepts, however weakly.
      let budget = NEAREST_SHARED;
      for (const l of [...lists].sort((a, b) => a.docs.length - b.docs.length)) {
        for (const doc of l.docs) {
          if (budget-- <= 0) break;
          insert(doc, overlapOf(vector, this.modelAt(doc)));
        }
      }
    }
    const exactSet = new Set(exact);
    const scored = top.map(({ i, overlap }) => this.score(goal, this.modelAt(i), overlap, exactSet.has(i)));
    scored.sort(compareCandidates);
    return { goal, candidates: scored.slice(0, limit) };
  }

  /** Traces whose text has the concept or whose tools imply it, sorted (built on first use). */
  private conceptList(concept: string): number[] {
    let list = this.lists.get(concept);
    if (!list) {
      list = mergeSorted(this.postings.get(concept) ?? [], this.impliedPostings.get(concept) ?? []);
      this.lists.set(concept, list);
    }
    return list;
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
    // Signatures are lowercase hex: plain order equals localeCompare's, without loading ICU's
    // collator (~3 MB of the node binary's pages and a few ms at the first match).
    || (a.trace.goal_signature < b.trace.goal_signature ? -1 : a.trace.goal_signature > b.trace.goal_signature ? 1 : 0);
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

