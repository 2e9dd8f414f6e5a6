/**
 * Is this an English word? A Bloom filter of WordNet 3.1's single-word lemmas, built by
 * scripts/build-synonyms.mjs and read on first use (only when a typo might become a critical
 * word). False positives (~1%) only withhold a correction; a missing filter withholds them all.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../../lib/paths.js';

let filter: { bits: number; k: number; data: Buffer } | null | undefined;

function fnv(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}

function load(): typeof filter {
  try {
    const data = readFileSync(packagePath('dist', 'runtime', 'matcher', 'english-words.bloom'));
    return { bits: data.readUInt32LE(0), k: data.readUInt32LE(4), data };
  } catch {
    return null;
  }
}

function inFilter(word: string): boolean {
  if (filter === undefined) filter = load();
  if (!filter) return true;
  const h1 = fnv(word, 2166136261);
  const h2 = fnv(word, 0x9747b28c) | 1;
  for (let i = 0; i < filter.k; i++) {
    const b = ((h1 + Math.imul(i, h2)) >>> 0) % filter.bits;
    if (((filter.data[8 + (b >> 3)] as number) & (1 << (b & 7))) === 0) return false;
  }
  return true;
}

/** The word, or the word without a common inflection, is an English lemma. */
export function isEnglishWord(word: string): boolean {
  if (inFilter(word)) return true;
  for (const [suffix, repl] of [['s', ''], ['es', ''], ['ed', ''], ['ed', 'e'], ['ing', ''], ['ing', 'e'], ['er', ''], ['ly', ''], ['ies', 'y']] as const) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix) && inFilter(word.slice(0, -suffix.length) + repl)) return true;
  }
  return false;
}
