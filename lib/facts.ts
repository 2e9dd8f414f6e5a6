/**
 * L4 memory: a small key/value store of facts the agents (and traces) read and write through
 * the `fact_read` / `fact_write` tools, so it passes the safety gate and its audit like any other
 * tool. One JSON file, rewritten atomically on every change; bounded in keys and value size so a
 * looping model cannot fill the SD card.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from './atomic-file.js';
import { LlmosError } from './errors.js';

export type FactValue = string | number | boolean;

export interface Fact {
  value: FactValue;
  updated: string;
}

export class FactStore {
  private facts: Map<string, Fact> | undefined;

  readonly file: string;
  private readonly maxEntries: number;

  constructor(file: string, maxEntries = 1000) {
    this.file = file;
    this.maxEntries = maxEntries;
  }

  private load(): Map<string, Fact> {
    if (this.facts) return this.facts;
    let raw: unknown = {};
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new LlmosError('ERR_STATE', `${this.file}: cannot read the facts store: ${(e as Error).message}`);
      raw = {};
    }
    const map = new Map<string, Fact>();
    // A damaged store is reported, never silently trimmed: the next write would lose the rest.
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new LlmosError('ERR_STATE', `${this.file}: the facts store must be a JSON object of {"key": {"value": ..., "updated": ...}}; fix or move the file`);
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      const f = v as Partial<Fact> | null;
      if (!f || typeof f !== 'object' || !['string', 'number', 'boolean'].includes(typeof f.value)) {
        throw new LlmosError('ERR_STATE', `${this.file}: fact "${k}" has no string, number or boolean value; fix or remove it`);
      }
      map.set(k, { value: f.value as FactValue, updated: String(f.updated ?? '') });
    }
    this.facts = map;
    return map;
  }

  get(key: string): Fact | undefined {
    return this.load().get(key);
  }

  /** Facts whose key starts with the prefix (all without one), sorted by key. */
  list(prefix = ''): Array<{ key: string } & Fact> {
    return [...this.load()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b)).map(([key, f]) => ({ key, ...f }));
  }

  set(key: string, value: FactValue | null, now = new Date()): void {
    const map = this.load();
    if (value === null) {
      if (!map.delete(key)) return;
    } else {
      if (!map.has(key) && map.size >= this.maxEntries) throw new LlmosError('ERR_FACTS_FULL', `the facts store holds ${this.maxEntries} facts; delete one (fact_write with value null) before adding "${key}"`);
      map.set(key, { value, updated: now.toISOString() });
    }
    writeFileAtomicSync(this.file, `${JSON.stringify(Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b))), null, 2)}\n`);
  }
}
