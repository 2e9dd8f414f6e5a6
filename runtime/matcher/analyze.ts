/**
 * Turns a goal into what the matcher compares: weighted concepts (synonyms folded together),
 * critical polarities (left/right, open/close, ...), negation, and quantities (numbers with
 * units, converted to base units so "50 cm" equals "0.5 m").
 */
import { stemmer } from 'stemmer';
import { foldPhrasal, PHRASAL } from './phrasal.js';
import { SYNONYMS } from './synonyms.generated.js';
import type { Correction } from './typos.js';

/** What the analysis needs of a speller: the trace vocabulary and a correction. */
export interface SpellCheck { has(word: string): boolean; correct(word: string): string | undefined }
import { normalizeGoal } from './goal-text.js';
import {
  CONCEPTS, COUNT_WORDS, LEADING_VERB, NEGATIONS, NUMBER_WORDS, PHRASES, POLARITY, POLARITY_ALSO, POLARITY_WEIGHT, STOPWORDS,
  UNITS, UNKNOWN_WORD_WEIGHT, QUANTITY_WEIGHT, type QuantityKind,
} from './lexicon.js';

export { goalSignature, normalizeGoal } from './goal-text.js';

export interface Quantity {
  /** The number as written (in its unit). */
  value: number;
  kind: QuantityKind;
  /** Value in base units: m, deg, s, fraction, count; for unitless numbers, the value itself. */
  base: number;
  /** Factor from the written unit to base units (1 for unitless). */
  toBase: number;
  unit?: string;
  /** Implied by an idiom ("turn around" = 180 degrees): always literal, never a parameter. */
  implicit?: boolean;
  /** Written after "for": an extent (2 seconds, 1 meter), never a level to set. */
  forExtent?: boolean;
}

export interface GoalAnalysis {
  text: string;
  normalized: string;
  /** Concept id -> weight. Polarity concepts look like "LR:L". */
  concepts: Map<string, number>;
  /** Polarity class -> poles present ("LR" -> {"L"}). */
  polarity: Map<string, Set<string>>;
  negated: boolean;
  quantities: Quantity[];
  /** Total concept weight. */
  total: number;
  /** Unknown words read as vocabulary words ("griper" -> "gripper"). */
  corrections?: Correction[];
}

interface LexEntry { concept?: { id: string; weight: number }; polarity?: { cls: string; pole: string }; also?: readonly string[] }

const conceptWeight = new Map<string, number>(CONCEPTS.map((c) => [c.id, c.weight]));
const stemCache = new Map<string, string>();
function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = word.includes('_') ? word : stemmer(word);
    if (stemCache.size < 50000) stemCache.set(word, s);
  }
  return s;
}

const byWord = new Map<string, LexEntry>();
/** Every lexicon word with its entry, in order: byStem is built from it when first needed. */
const lexiconWords: Array<[string, LexEntry]> = [];
function mergeInto(map: Map<string, LexEntry>, key: string, entry: LexEntry): void {
  const prev = map.get(key);
  // Entries are never mutated: a word's first entry is shared as it is (no copy per word at
  // every start: this runs for the whole lexicon before the first goal).
  map.set(key, prev ? { ...prev, ...entry, also: [...(prev.also ?? []), ...(entry.also ?? [])] } : entry);
}
function addEntry(word: string, entry: LexEntry): void {
  if (!byWord.has(word) || entry.polarity) mergeInto(byWord, word, entry);
  lexiconWords.push([word, entry]);
}
let stems: Map<string, LexEntry> | undefined;
/**
 * Lexicon entries by stem, for a word not in the lexicon as written. Built on the first such
 * word, not at load: stemming the whole lexicon costs a few ms of every start, and a goal in the
 * lexicon's own words ("beep") never needs it.
 */
function byStem(): Map<string, LexEntry> {
  if (!stems) {
    stems = new Map();
    for (const [word, entry] of lexiconWords) {
      const s = stem(word);
      if (!stems.has(s) || entry.polarity) mergeInto(stems, s, entry);
    }
  }
  return stems;
}
for (const group of CONCEPTS) {
  const entry: LexEntry = { concept: { id: group.id, weight: group.weight }, ...(group.also ? { also: group.also } : {}) };
  for (const w of group.words) addEntry(w, entry);
}
for (const cls of POLARITY) {
  for (const [pole, words] of Object.entries(cls.poles)) {
    for (const w of words) addEntry(w, { polarity: { cls: cls.id, pole }, ...(POLARITY_ALSO[w] ? { also: POLARITY_ALSO[w] } : {}) });
  }
}
// WordNet synonyms distilled at build time (scripts/build-synonyms.mjs): a synonym reads as its
// lexicon word and never overrides one.
// process.hrtime, not performance.now(): the `performance` global loads perf_hooks (a few ms and
// pages of every start) on first use.
const foldStart = process.hrtime.bigint();
for (const [syn, seed] of Object.entries(SYNONYMS)) {
  const entry = byWord.get(seed);
  if (entry && !byWord.has(syn)) byWord.set(syn, entry); // inflections come with the data: no stemming
}
/** What folding the synonyms in cost at load (npm run bench reports it). */
export const synonymFoldMs = Number(process.hrtime.bigint() - foldStart) / 1e6;
const stopwords = new Set(STOPWORDS);
const negations = new Set(NEGATIONS);
const phraseIndex = new Map<string, Array<{ words: string[]; replacement: readonly string[] }>>();
for (const [phrase, replacement] of PHRASES) {
  const words = phrase.split(' ');
  const first = words[0] as string;
  const list = phraseIndex.get(first) ?? [];
  list.push({ words, replacement });
  list.sort((a, b) => b.words.length - a.words.length);
  phraseIndex.set(first, list);
}

const NUMBER_RE = /^[-+]?(\d+(\.\d+)?|\.\d+)$/;

export function tokenize(text: string): string[] {
  const s = text.toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/\bcan't\b/g, 'can not').replace(/\bwon't\b/g, 'will not').replace(/\bshan't\b/g, 'shall not')
    .replace(/n't\b/g, ' not')
    .replace(/\blet's\b/g, 'let us')
    .replace(/'(s|re|ve|ll|d|m)\b/g, ' ')
    .replace(/(\d),(\d{3})\b/g, '$1$2')
    .replace(/°/g, ' deg ').replace(/%/g, ' percent ')
    .replace(/(\d)([a-z])/g, '$1 $2')
    .replace(/(^|[^\w.])-(?=\d|\.\d)/g, '$1 −')
    .replace(/[^a-z0-9.−\s]/g, ' ')
    .replace(/−/g, '-');
  const out: string[] = [];
  for (let tok of s.split(/\s+/)) {
    if (!tok) continue;
    if (!NUMBER_RE.test(tok)) tok = tok.replace(/^[.]+|[.]+$/g, '').replace(/\./g, ' ');
    for (const t of tok.split(' ')) if (t) out.push(t);
  }
  return out;
}

function applyPhrases(tokens: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length;) {
    const candidates = phraseIndex.get(tokens[i] as string);
    let matched = false;
    if (candidates) {
      for (const p of candidates) {
        if (p.words.every((w, k) => tokens[i + k] === w)) {
          out.push(...p.replacement);
          i += p.words.length;
          matched = true;
          break;
        }
      }
    }
    if (!matched) out.push(tokens[i++] as string);
  }
  return out;
}

/** Reads a number written in digits or words starting at i; returns [value, tokens consumed]. */
function readNumber(tokens: readonly string[], i: number): [number, number] | undefined {
  const first = tokens[i] as string;
  let value: number;
  let k = i;
  if (NUMBER_RE.test(first)) {
    value = Number(first);
    k = i + 1;
  } else {
    if (NUMBER_WORDS[first] === undefined) return undefined;
    value = 0;
    while (k < tokens.length) {
      const n = NUMBER_WORDS[tokens[k] as string];
      if (n === undefined) break;
      const w = tokens[k] as string;
      if (w === 'hundred' || w === 'dozen') value = (value || 1) * n;
      else if (w === 'half' || w === 'quarter') {
        if (value !== 0) break;
        value = n;
        if (tokens[k + 1] === 'a' || tokens[k + 1] === 'an') k += 1; // "half a meter"
      } else if (n < 10 && value >= 20 && value % 10 === 0) value += n; // twenty five
      else if (value !== 0 && !(value % 100 === 0)) break; // "one two" is two numbers
      else value += n;
      k += 1;
    }
    if (k === i) return undefined;
    if (tokens[k] === 'point' && NUMBER_WORDS[tokens[k + 1] as string] !== undefined && (NUMBER_WORDS[tokens[k + 1] as string] as number) < 10) {
      value += (NUMBER_WORDS[tokens[k + 1] as string] as number) / 10;
      k += 2;
    }
  }
  if (tokens[k] === 'and' && tokens[k + 1] === 'a' && tokens[k + 2] === 'half') { value += 0.5; k += 3; }
  return [value, k - i];
}

/** A plural of an action word ("beeps", "blinks", "waves"): a number before it counts repetitions. */
function isActionPlural(tok: string): boolean {
  if (!tok.endsWith('s') || tok.length < 4) return false;
  const entry = byWord.get(tok) ?? byStem().get(stem(tok));
  return !!entry?.concept && !entry.polarity && entry.concept.weight >= 1 && ACTION_CONCEPTS.has(entry.concept.id);
}
const MOTION_CLASSES = new Set(['FB', 'LR', 'UD']);
const ACTION_CONCEPTS = new Set(['BEEP', 'BLINK', 'WAVE', 'NOD', 'SHAKE', 'DANCE', 'PING']);

const phraseWords = new Set<string>([...PHRASES.flatMap(([p]) => p.split(' ')), ...Object.keys(PHRASAL), ...Object.values(PHRASAL).flatMap((p) => Object.keys(p))]);

/** True when the analysis knows the word (lexicon, stopword, number, unit, phrase word). */
export function knownWord(tok: string): boolean {
  return NUMBER_RE.test(tok) || tok.startsWith('#') || byWord.has(tok) || stopwords.has(tok) || negations.has(tok) || phraseWords.has(tok)
    || NUMBER_WORDS[tok] !== undefined || UNITS[tok] !== undefined || COUNT_WORDS[tok] !== undefined || byStem().has(stem(tok));
}

/** Every word of the lexicon: the vocabulary typos are corrected into. */
export function lexiconVocabulary(): string[] {
  return [...new Set([...byWord.keys(), ...stopwords, ...negations, ...phraseWords, ...Object.keys(NUMBER_WORDS), ...Object.keys(UNITS), ...Object.keys(COUNT_WORDS)])]
    .filter((w) => /^[a-z]+$/.test(w));
}

/** Words of opposite-pole classes, and the particles that carry a direction. */
export function criticalWords(): Set<string> {
  const out = new Set<string>(['in', 'out', 'on', 'off', 'up', 'down']);
  for (const cls of POLARITY) for (const words of Object.values(cls.poles)) for (const w of words) out.add(w);
  for (const w of NEGATIONS) out.add(w);
  return out;
}

/** What a real word must never be corrected into: critical words, numbers and units. */
export function guardedWords(): Set<string> {
  // "a"/"an" are quantities too ("a meter" is 1 m): "NaN meters" must not become "an meters".
  return new Set([...criticalWords(), ...Object.keys(NUMBER_WORDS), ...Object.keys(UNITS), ...Object.keys(COUNT_WORDS), 'a', 'an']);
}

/** A word's meaning for typo candidates: two candidates with one meaning are one correction. */
export function meaningOfWord(word: string): string {
  if (stopwords.has(word)) return '_';
  const unit = UNITS[word];
  if (unit) return `unit:${unit.kind}:${unit.toBase}`;
  if (NUMBER_WORDS[word] !== undefined) return `number:${NUMBER_WORDS[word]}`;
  const e = byWord.get(word) ?? byStem().get(stem(word));
  if (e) return `${e.polarity ? `${e.polarity.cls}:${e.polarity.pole}` : ''}|${e.concept?.id ?? ''}`;
  return `w:${stem(word)}`;
}

export function analyzeGoal(text: string, speller?: SpellCheck): GoalAnalysis {
  const raw = tokenize(text);
  const corrections: Correction[] = [];
  if (speller) {
    for (let i = 0; i < raw.length; i++) {
      const tok = raw[i] as string;
      if (knownWord(tok) || speller.has(tok) || speller.has(stem(tok))) continue;
      const to = speller.correct(tok);
      if (to !== undefined) { corrections.push({ from: tok, to }); raw[i] = to; }
    }
  }
  const tokens = applyPhrases(foldPhrasal(raw));
  const lead = tokens.findIndex((t) => !stopwords.has(t) && !negations.has(t));
  if (lead >= 0 && LEADING_VERB[tokens[lead] as string]) tokens[lead] = LEADING_VERB[tokens[lead] as string] as string;
  const concepts = new Map<string, number>();
  const polarity = new Map<string, Set<string>>();
  const quantities: Quantity[] = [];
  let negated = false;
  const add = (id: string, weight: number): void => {
    if ((concepts.get(id) ?? 0) < weight) concepts.set(id, weight);
  };

  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    if (tok.startsWith('#')) {
      const value = Number(tok.slice(1));
      const unit = UNITS[tokens[i + 1] ?? ''];
      if (unit) {
        quantities.push({ value, kind: unit.kind, base: value * unit.toBase, toBase: unit.toBase, unit: tokens[i + 1] as string, implicit: true });
        i += 1;
      }
      continue;
    }
    const num = readNumber(tokens, i);
    if (num) {
      const [value, used] = num;
      const unitTok = tokens[i + used];
      const unit = unitTok !== undefined ? UNITS[unitTok] : undefined;
      if (unit && unitTok) {
        quantities.push({ value, kind: unit.kind, base: value * unit.toBase, toBase: unit.toBase, unit: unitTok, ...(tokens[i - 1] === 'for' ? { forExtent: true } : {}) });
        i += used;
      } else if (unitTok !== undefined && isActionPlural(unitTok)) {
        // "two beeps", "3 blinks": a count of the action.
        quantities.push({ value, kind: 'count', base: value, toBase: 1, unit: 'times' });
        i += used - 1;
      } else {
        quantities.push({ value, kind: 'number', base: value, toBase: 1 });
        i += used - 1;
      }
      continue;
    }
    const nextUnit = UNITS[tokens[i + 1] ?? ''];
    // "a meter", "a second"; not "a turn" (a rotation, not 360 degrees) nor "a time".
    if ((tok === 'a' || tok === 'an') && nextUnit && nextUnit.kind !== 'count' && nextUnit.toBase !== 360) {
      const unitTok = tokens[i + 1] as string;
      const unit = UNITS[unitTok] as { kind: QuantityKind; toBase: number };
      quantities.push({ value: 1, kind: unit.kind, base: unit.toBase, toBase: unit.toBase, unit: unitTok });
      i += 1;
      continue;
    }
    if (tok in COUNT_WORDS) {
      const n = COUNT_WORDS[tok] as number;
      quantities.push({ value: n, kind: 'count', base: n, toBase: 1, unit: 'times' });
      continue;
    }
    if (negations.has(tok)) { negated = true; continue; }
    if (stopwords.has(tok)) continue;
    const entry = byWord.get(tok) ?? byStem().get(stem(tok));
    if (!entry) {
      // An unknown verb that leads a direction is a way of moving: "nudge forward", "scoot back".
      const next = byWord.get(tokens[i + 1] ?? '');
      if (i === lead && next?.polarity && MOTION_CLASSES.has(next.polarity.cls)) add('MOVE', conceptWeight.get('MOVE') ?? 0.35);
      else add(`w:${stem(tok)}`, UNKNOWN_WORD_WEIGHT);
      continue;
    }
    if (entry.polarity) {
      const { cls, pole } = entry.polarity;
      let poles = polarity.get(cls);
      if (!poles) { poles = new Set(); polarity.set(cls, poles); }
      poles.add(pole);
      add(`${cls}:${pole}`, POLARITY_WEIGHT);
    }
    if (entry.concept) add(entry.concept.id, entry.concept.weight);
    for (const id of entry.also ?? []) add(id, conceptWeight.get(id) ?? 1);
  }

  // "turn the light on": with on/off and no direction or angle, "turn" means switch.
  if (concepts.has('TURN') && polarity.has('ACT') && !polarity.has('LR') && !quantities.some((q) => q.kind === 'angle')) {
    concepts.delete('TURN');
    add('SWITCH', conceptWeight.get('SWITCH') ?? 0.15);
  }
  // "rotate the arm to 30 degrees": turning a part (not the robot) is moving it.
  if (concepts.has('TURN') && !polarity.has('LR') && ['ARM', 'GRIPPER', 'WINCH'].some((c) => concepts.has(c))) {
    concepts.delete('TURN');
    add('MOVE', conceptWeight.get('MOVE') ?? 0.35);
  }
  const dropPole = (cls: string, pole: string): void => {
    const poles = polarity.get(cls);
    if (!poles?.delete(pole)) return;
    if (poles.size === 0) polarity.delete(cls);
    concepts.delete(`${cls}:${pole}`);
  };
  // "the distance ahead": a direction while sensing is where to look, not where to go.
  if ((concepts.has('READ') || concepts.has('DISTANCE')) && !concepts.has('MOVE') && !concepts.has('TURN')) {
    dropPole('FB', 'F');
    dropPole('FB', 'B');
  }
  // Particles of phrasal verbs: "pick it up", "put it down", "back to its home position".
  if (concepts.has('PICKUP')) dropPole('UD', 'U');
  if (concepts.has('PUTDOWN')) dropPole('UD', 'D');
  if (concepts.has('HOME')) dropPole('FB', 'B');

  // A bare number after "turn" is degrees ("turn 180"), after "wait" seconds ("wait 5").
  const bareUnit = concepts.has('TURN') ? 'degrees' : concepts.has('WAIT') ? 'seconds' : undefined;
  if (bareUnit) {
    const unit = UNITS[bareUnit] as { kind: QuantityKind; toBase: number };
    for (const q of quantities) {
      if (q.kind === 'number' && !quantities.some((o) => o.kind === unit.kind)) Object.assign(q, { kind: unit.kind, base: q.value * unit.toBase, toBase: unit.toBase, unit: bareUnit });
    }
  }
  // What kind of quantity a goal gives is part of its meaning ("arm to 90 degrees" sets an angle);
  // once is no count at all ("beep once" is "beep").
  const kept = quantities.filter((q) => !(q.kind === 'count' && q.value === 1));
  quantities.length = 0;
  quantities.push(...kept);
  for (const q of quantities) if (q.kind !== 'number') add(`Q:${q.kind}`, QUANTITY_WEIGHT);

  let total = 0;
  for (const w of concepts.values()) total += w;
  return { text, normalized: normalizeGoal(text), concepts, polarity, negated, quantities, total, ...(corrections.length ? { corrections } : {}) };
}

/** Where two analyses disagree on a critical word or a negation; empty when compatible. */
export function conflicts(a: GoalAnalysis, b: GoalAnalysis): string[] {
  const out: string[] = [];
  for (const cls of new Set([...a.polarity.keys(), ...b.polarity.keys()])) {
    const pa = a.polarity.get(cls);
    const pb = b.polarity.get(cls);
    if (!pa || !pb) continue;
    const same = pa.size === pb.size && [...pa].every((p) => pb.has(p));
    if (!same) out.push(`${cls}: ${[...pa].join('+')} vs ${[...pb].join('+')}`);
  }
  if (a.negated !== b.negated) out.push(`negation: ${a.negated ? 'goal says not' : 'trace says not'}`);
  return out;
}
