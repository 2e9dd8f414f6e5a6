/**
 * Typo correction: a word outside the vocabulary (the lexicon and the words of loaded traces) may
 * be read as a vocabulary word at edit distance 1 (2 for words of 8+ letters; a transposition
 * counts 1) when the correction is unique in meaning. Real words neighbour critical ones
 * (oven/open, lift/left, us/up, in/on), numbers (forth/forty) and devices (jar/jaw), so (WordNet's
 * lemmas, runtime/matcher/english.ts): a common English word is never corrected; a rare one
 * ("tern") only into a word that is neither critical nor a number; a non-word ("opne") into any.
 * Critical words are in the vocabulary, so they are never corrected out of.
 */

export interface Correction { from: string; to: string }

export interface SpellerOptions {
  /** Every word the analysis knows. */
  words: Iterable<string>;
  /** What a word means, so candidates with one meaning count as one ("rise"/"raise"). */
  meaningOf: (word: string) => string;
  /** True when the word is a real (English) word: never corrected into a critical word or a number. */
  isWord: (word: string) => boolean;
  /** True when the word is a common English word: never corrected at all. */
  isCommonWord: (word: string) => boolean;
  /** Critical words and numbers: what a real word must never become. */
  guarded: ReadonlySet<string>;
}

function deletes(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1));
  return out;
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions), capped. */
export function editDistance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) { row.push(j); continue; }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

export class Speller {
  private readonly vocab = new Set<string>();
  /** deletion variant (and the word itself) -> vocabulary words. */
  private readonly index = new Map<string, string[]>();
  private readonly meaningOf: (word: string) => string;
  private readonly isWord: (word: string) => boolean;
  private readonly isCommonWord: (word: string) => boolean;
  private readonly guarded: ReadonlySet<string>;

  constructor(options: SpellerOptions) {
    this.meaningOf = options.meaningOf;
    this.isWord = options.isWord;
    this.isCommonWord = options.isCommonWord;
    this.guarded = options.guarded;
    for (const w of options.words) this.add(w);
  }

  add(word: string): void {
    if (this.vocab.has(word) || !/^[a-z]{2,}$/.test(word)) return;
    this.vocab.add(word);
    const keys = new Set([word, ...deletes(word)]);
    if (word.length >= 7) for (const d of deletes(word)) for (const dd of deletes(d)) keys.add(dd);
    for (const k of keys) {
      const list = this.index.get(k);
      if (list) list.push(word); else this.index.set(k, [word]);
    }
  }

  has(word: string): boolean {
    return this.vocab.has(word);
  }

  /** The vocabulary word meant by an unknown word, or undefined when none or several fit. */
  correct(word: string): string | undefined {
    if (word.length < 3 || !/^[a-z]+$/.test(word) || this.vocab.has(word)) return undefined;
    const maxDist = word.length >= 8 ? 2 : 1;
    const probes = new Set([word, ...deletes(word)]);
    if (maxDist === 2) for (const d of deletes(word)) for (const dd of deletes(d)) probes.add(dd);
    const found = new Map<string, number>();
    for (const p of probes) {
      for (const w of this.index.get(p) ?? []) {
        if (found.has(w)) continue;
        const d = editDistance(word, w, maxDist);
        if (d <= maxDist && (d === 1 || w.length >= 7)) found.set(w, d);
      }
    }
    if (found.size === 0) return undefined;
    // The nearest first; then words that keep the first letter (typos rarely hit it); then the
    // likeliest kind of slip (swapped letters, a dropped letter, an extra one, a wrong one); then
    // words that mean something over stopwords ("wich" is the winch before it is "which").
    const best = Math.min(...found.values());
    let cands = [...found].filter(([, d]) => d === best).map(([w]) => w);
    const narrow = (keep: (w: string) => boolean): void => {
      const kept = cands.filter(keep);
      if (kept.length > 0) cands = kept;
    };
    narrow((w) => w[0] === word[0]);
    const rank = (w: string): number => (w.length === word.length ? ([...w].sort().join('') === [...word].sort().join('') ? 0 : 3) : w.length > word.length ? 1 : 2);
    const top = Math.min(...cands.map(rank));
    narrow((w) => rank(w) === top);
    narrow((w) => this.meaningOf(w) !== '_');
    const meanings = new Set(cands.map((w) => this.meaningOf(w)));
    if (meanings.size !== 1) return undefined;
    const to = cands.sort((a, b) => a.length - b.length || (a < b ? -1 : 1))[0] as string;
    // A common word we do not know is not a typo ("oven" is not "open", "jar" not "jaw"); a rare
    // one may be, but never into a direction or a number ("forth" is not "forty").
    if (this.isCommonWord(word)) return undefined;
    if (cands.some((w) => this.guarded.has(w)) && this.isWord(word)) return undefined;
    return to;
  }
}
