/**
 * Recall by meaning (modes.embeddings): when the offline matcher finds no learned trace for a goal,
 * the goal and every trace's goal text are embedded by the Ollama server and the nearest trace
 * above `embedding_threshold` is offered to the model as a plan (MIXED). Never FOLLOWER: an
 * embedding cannot tell "left" from "right" reliably, so the model and the gate still check
 * every call. Trace vectors are cached in state/embeddings.json (per model, keyed by goal text),
 * so a thousand traces are embedded once, not per goal.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../lib/atomic-file.js';
import { fastHash } from '../../lib/hash.js';
import type { TraceRecord } from '../traces/types.js';

export interface RecallHit {
  record: TraceRecord;
  similarity: number;
}

interface CacheFile {
  model: string;
  vectors: Record<string, number[]>;
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  // Vectors of different sizes come from different models: they are not comparable.
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Requests stay small enough for a Pi-class server. */
const BATCH = 64;

export class EmbeddingRecall {
  private cache: CacheFile | undefined;
  private readonly file: string;
  private readonly model: string;

  constructor(file: string, model: string) {
    this.file = file;
    this.model = model;
  }

  private load(): CacheFile {
    if (this.cache) return this.cache;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<CacheFile>;
      // Another model's vectors live in another space: start over.
      this.cache = raw.model === this.model && raw.vectors && typeof raw.vectors === 'object' ? { model: this.model, vectors: raw.vectors } : { model: this.model, vectors: {} };
    } catch {
      this.cache = { model: this.model, vectors: {} };
    }
    return this.cache;
  }

  /** The nearest trace at or above the threshold, or undefined. */
  async nearest(goal: string, records: readonly TraceRecord[], threshold: number, embed: (texts: string[]) => Promise<number[][]>): Promise<RecallHit | undefined> {
    if (records.length === 0) return undefined;
    const cache = this.load();
    const key = (text: string): string => fastHash(text.trim().toLowerCase());
    const missing = [...new Set(records.map((r) => r.trace.goal_text).filter((t) => !cache.vectors[key(t)]))];
    for (let i = 0; i < missing.length; i += BATCH) {
      const texts = missing.slice(i, i + BATCH);
      const vectors = await embed(texts);
      texts.forEach((t, k) => { cache.vectors[key(t)] = vectors[k] as number[]; });
    }
    if (missing.length > 0) writeFileAtomicSync(this.file, JSON.stringify(cache));
    const [goalVector] = await embed([goal]);
    if (!goalVector) return undefined;
    let best: RecallHit | undefined;
    for (const record of records) {
      const v = cache.vectors[key(record.trace.goal_text)];
      if (!v) continue;
      const similarity = cosine(goalVector, v);
      if (similarity >= threshold && (!best || similarity > best.similarity)) best = { record, similarity };
    }
    return best;
  }
}
