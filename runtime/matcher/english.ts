/**
 * Is this an English word, and a common one? Bloom filters of WordNet 3.1's single-word lemmas
 * (all of them, and those tagged at least once in the SemCor corpus), built by
 * scripts/build-synonyms.mjs and read on first use (only when a goal has an unknown word).
 * False positives (~1%) only withhold a correction; a missing filter withholds them all.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../../lib/paths.js';

interface Filter { bits: number; k: number; data: Buffer }
const filters = new Map<string, Filter | null>();

function fnv(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}

function load(name: string): Filter | null {
  let f = filters.get(name);
  if (f === undefined) {
    try {
      const data = readFileSync(packagePath('dist', 'runtime', 'matcher', name));
      f = { bits: data.readUInt32LE(0), k: data.readUInt32LE(4), data };
    } catch {
      f = null;
    }
    filters.set(name, f);
  }
  return f;
}

function inFilter(name: string, word: string): boolean {
  const f = load(name);
  if (!f) return true;
  const h1 = fnv(word, 2166136261);
  const h2 = fnv(word, 0x9747b28c) | 1;
  for (let i = 0; i < f.k; i++) {
    const b = ((h1 + Math.imul(i, h2)) >>> 0) % f.bits;
    if (((f.data[8 + (b >> 3)] as number) & (1 << (b & 7))) === 0) return false;
  }
  return true;
}

/** Regular inflections only (derivations like -er and -ly make new words: "griper" is no form of "grip"). */
const INFLECTIONS = [['s', ''], ['es', ''], ['ed', ''], ['ed', 'e'], ['ing', ''], ['ing', 'e'], ['ies', 'y'], ['ied', 'y']] as const;

function lookup(name: string, word: string): boolean {
  if (inFilter(name, word)) return true;
  return INFLECTIONS.some(([suffix, repl]) => word.length > suffix.length + 2 && word.endsWith(suffix) && inFilter(name, word.slice(0, -suffix.length) + repl));
}

/** The word, or the word without a regular inflection, is an English lemma. */
export function isEnglishWord(word: string): boolean {
  return lookup('english-words.bloom', word);
}

/** ... and a common one (tagged in SemCor): "oven", "jar", "lid", not "tern" or "griper". */
export function isCommonWord(word: string): boolean {
  // Both filters must agree: their false positives are independent, so a non-word is almost
  // never taken for a common word.
  return lookup('english-common.bloom', word) && isEnglishWord(word);
}
