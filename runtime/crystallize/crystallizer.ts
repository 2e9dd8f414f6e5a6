/**
 * Crystallization (the seed's evolution layer): a trace used often enough with a high enough
 * success rate becomes crystallized/<name>.ts. Automatic after a successful run when configured
 * (crystallization.auto, min_usage, min_success), or on demand (`llmos crystallize`, with a dry
 * run that only prints the code). The trace records which function it became.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { LlmosError } from '../../lib/errors.js';
import type { CrystallizationConfig } from '../config.js';
import type { TraceStore } from '../traces/store.js';
import type { Trace } from '../traces/types.js';
import { fileNameFor, generateCrystallized, slotsFor, traceHash, type GeneratedFunction } from './codegen.js';
import type { CrystallizedRegistry } from './registry.js';

export interface CrystallizeResult extends GeneratedFunction {
  /** Absolute path written (or that would be written, on a dry run). */
  path: string;
  written: boolean;
}

export class Crystallizer {
  private readonly registry: CrystallizedRegistry;
  private readonly store: TraceStore;
  private readonly config: CrystallizationConfig;
  private readonly now: () => Date;

  constructor(options: { registry: CrystallizedRegistry; store: TraceStore; config: CrystallizationConfig; now: () => Date }) {
    this.registry = options.registry;
    this.store = options.store;
    this.config = options.config;
    this.now = options.now;
  }

  /** Proven enough (usage and success thresholds) and not already served by a current function. */
  qualifies(trace: Trace): boolean {
    return trace.usage_count >= this.config.min_usage
      && trace.success_rate >= this.config.min_success
      && !this.registry.has(trace.goal_signature, () => traceHash(trace));
  }

  /** After a successful run: crystallize when auto-crystallization is on and the trace qualifies. */
  async maybeAuto(signature: string): Promise<CrystallizeResult | undefined> {
    const rec = this.store.get(signature);
    if (!this.config.auto || !rec || !this.qualifies(rec.trace)) return undefined;
    // Once per trace and process, and never over a file that is there (refused, stale or
    // hand-edited): automatic crystallization must not overwrite anyone's code.
    if (this.tried.has(signature) || this.registry.fileOf(signature)) return undefined;
    this.tried.add(signature);
    if (existsSync(join(this.registry.dir, fileNameFor(rec.trace.goal_text, rec.trace.goal_signature)))) return undefined;
    return this.crystallize(signature, { dryRun: false });
  }

  private readonly tried = new Set<string>();

  async crystallize(signature: string, options: { dryRun: boolean }): Promise<CrystallizeResult> {
    const rec = this.store.get(signature);
    if (!rec) throw new LlmosError('ERR_TRACE_NOT_FOUND', `no trace with signature ${signature}`);
    // The generator's own slots (not the matcher's cached model): the trust check regenerates
    // the file from the trace with exactly these.
    const gen = generateCrystallized(rec.trace, slotsFor(rec.trace), { at: this.now(), source: rec.file.split('/').slice(-2).join('/') });
    const path = join(this.registry.dir, gen.fileName);
    if (options.dryRun) return { ...gen, path, written: false };
    await writeFileAtomic(path, gen.code);
    this.registry.refresh(gen.fileName);
    await this.registry.get(signature);
    await this.store.update(signature, { crystallized: { function: gen.name, file: gen.fileName, at: this.now().toISOString() } });
    return { ...gen, path, written: true };
  }
}
