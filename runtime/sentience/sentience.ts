/**
 * The sentience layer's internal state (seed: "How do I feel?"): four variables in [-1, 1] with
 * set-points. Between events each variable returns toward its set-point exponentially with a
 * half-life, computed from elapsed time, so the state is the same whether it is looked at every
 * millisecond or once an hour. Events (task success, failure, repetition, novelty, cost, safety
 * rejections, e-stop, operator feedback) move the variables by configurable deltas; the
 * variables combine into a mode that changes what the runtime does (runtime/sentience/effects.ts).
 */
import { readFileSync, renameSync } from 'node:fs';
import type { Clock } from '../../lib/clock.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { Emitter } from '../../lib/emitter.js';
import type { SentienceConfig, SentienceVars } from '../config.js';

export type SentienceVar = keyof SentienceVars;
export const VARS: readonly SentienceVar[] = ['safety', 'curiosity', 'energy', 'confidence'];

export type SentienceMode = 'RECOVERY' | 'CAUTIOUS' | 'AUTO_CREATIVE' | 'AUTO_CONTAINED' | 'BALANCED';

export type SentienceTrigger =
  | 'task_success' | 'task_failure' | 'repetition' | 'novel_task' | 'high_cost' | 'safety_rejection' | 'estop' | 'operator_feedback';

/** The seed's trigger table, plus safety rejections, e-stop and operator feedback. */
export const DEFAULT_DELTAS: Readonly<Record<SentienceTrigger, Partial<SentienceVars>>> = {
  task_success: { confidence: 0.1, energy: -0.02 },
  task_failure: { confidence: -0.15, safety: -0.1, energy: -0.05 },
  repetition: { curiosity: -0.1 },
  novel_task: { curiosity: 0.15, confidence: -0.03 },
  high_cost: { energy: -0.1 },
  safety_rejection: { safety: -0.15 },
  estop: { safety: -0.3 },
  /** Scaled by the feedback score in [-1, 1]. */
  operator_feedback: { confidence: 0.1, safety: 0.05 },
};

export const DEFAULT_THRESHOLDS = {
  recovery_energy: -0.5,
  recovery_safety: -0.5,
  cautious_safety: 0,
  creative_curiosity: 0.3,
  creative_confidence: 0.1,
  contained_curiosity: -0.3,
  contained_confidence: -0.2,
} as const;

export type SentienceThresholds = { -readonly [K in keyof typeof DEFAULT_THRESHOLDS]: number };

export interface SentienceSnapshot {
  mode: SentienceMode;
  values: SentienceVars;
  set_points: SentienceVars;
  updated_at: string;
  last_event?: string;
}

interface Persisted {
  version: 1;
  values: SentienceVars;
  /** Wall-clock time the values were true at. */
  at: string;
  last_event?: string;
}

const clamp = (x: number): number => Math.max(-1, Math.min(1, x));
const round = (x: number): number => Math.round(x * 1000) / 1000 || 0; // no -0 in JSON

export class Sentience {
  readonly events = new Emitter<{ change: SentienceSnapshot; mode: { from: SentienceMode; to: SentienceMode } }>();
  private readonly clock: Clock;
  private readonly config: SentienceConfig;
  private readonly file: string | undefined;
  private readonly deltas: Record<SentienceTrigger, Partial<SentienceVars>>;
  private readonly thresholds: SentienceThresholds;
  private values: SentienceVars;
  /** Clock time the stored values were true at. */
  private at: number;
  private lastEvent: string | undefined;
  private lastMode: SentienceMode;
  private saving: Promise<void> = Promise.resolve();
  /** Hears a failed save (the runtime logs it). */
  onSaveError: ((message: string) => void) | undefined;
  private saveQueued = false;

  constructor(options: { config: SentienceConfig; clock: Clock; file?: string }) {
    this.clock = options.clock;
    this.config = options.config;
    this.file = options.file;
    this.deltas = { ...DEFAULT_DELTAS };
    for (const [k, v] of Object.entries(options.config.deltas ?? {})) {
      if (k in DEFAULT_DELTAS) this.deltas[k as SentienceTrigger] = { ...v };
    }
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...(options.config.thresholds as Partial<SentienceThresholds>) };
    this.values = { ...options.config.initial };
    this.at = this.clock.now();
    this.lastMode = this.mode();
  }

  /** Reloads the persisted state, aged by the wall-clock time since it was saved. */
  /**
   * Reloads the persisted state. Returns false when there is none; a file that exists but is
   * damaged is set aside (renamed *.damaged-<time>) and reported through `onDamaged`, so the
   * evidence survives and nobody mistakes the fresh defaults for the robot's history.
   */
  load(onDamaged?: (message: string) => void): boolean {
    if (!this.file) return false;
    let p: Persisted;
    try {
      p = JSON.parse(readFileSync(this.file, 'utf8')) as Persisted;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      this.setAside(`not readable JSON (${(e as Error).message})`, onDamaged);
      return false;
    }
    if (p?.version !== 1 || !VARS.every((v) => typeof p.values?.[v] === 'number' && Number.isFinite(p.values[v]))) {
      this.setAside('not a version 1 state with four finite values', onDamaged);
      return false;
    }
    const elapsed = Math.max(0, this.clock.wallNow().getTime() - Date.parse(p.at));
    this.values = { safety: clamp(p.values.safety), curiosity: clamp(p.values.curiosity), energy: clamp(p.values.energy), confidence: clamp(p.values.confidence) };
    this.at = this.clock.now() - (Number.isFinite(elapsed) ? elapsed : 0);
    if (p.last_event) this.lastEvent = p.last_event;
    this.settle();
    this.lastMode = this.mode();
    return true;
  }

  private setAside(why: string, onDamaged?: (message: string) => void): void {
    // Only the runtime (which passes onDamaged) moves the file; an inspection leaves it alone.
    if (!onDamaged) return;
    const file = this.file as string;
    const aside = `${file}.damaged-${this.clock.wallNow().toISOString().replace(/[:.]/g, '-')}`;
    try { renameSync(file, aside); } catch { /* leave it where it is */ }
    onDamaged?.(`${file}: ${why}; kept as ${aside}, starting from the configured initial values`);
  }

  /** Current values, with homeostasis applied up to now (not to measured variables). */
  current(): SentienceVars {
    const dt = Math.max(0, this.clock.now() - this.at);
    const k = Math.pow(0.5, dt / this.config.half_life_ms);
    const out = {} as SentienceVars;
    for (const v of VARS) {
      const sp = this.config.set_points[v];
      out[v] = this.measured.has(v) ? this.values[v] : sp + (this.values[v] - sp) * k;
    }
    return out;
  }

  /** Variables a sensor drives (energy from a battery): triggers and homeostasis leave them alone. */
  private readonly measured = new Set<SentienceVar>();

  measure(variable: SentienceVar): void {
    this.measured.add(variable);
  }

  /** Milliseconds on the runtime's clock (simulated in tests). */
  now(): number {
    return this.clock.now();
  }

  mode(values: SentienceVars = this.current()): SentienceMode {
    const t = this.thresholds;
    if (values.energy < t.recovery_energy || values.safety < t.recovery_safety) return 'RECOVERY';
    if (values.safety < t.cautious_safety) return 'CAUTIOUS';
    if (values.curiosity > t.creative_curiosity && values.confidence > t.creative_confidence) return 'AUTO_CREATIVE';
    if (values.curiosity < t.contained_curiosity || values.confidence < t.contained_confidence) return 'AUTO_CONTAINED';
    return 'BALANCED';
  }

  /** Applies an event; `scale` multiplies its deltas (operator feedback score, cost size). */
  trigger(event: SentienceTrigger, scale = 1): SentienceSnapshot {
    this.settle();
    const delta = this.deltas[event];
    for (const v of VARS) {
      if (this.measured.has(v)) continue;
      const d = delta[v];
      if (d !== undefined) this.values[v] = clamp(this.values[v] + d * scale);
    }
    this.lastEvent = event;
    return this.changed();
  }

  /** Sets one variable directly (battery charge drives energy). */
  set(variable: SentienceVar, value: number, event: string): SentienceSnapshot {
    this.settle();
    this.values[variable] = clamp(value);
    this.lastEvent = event;
    return this.changed();
  }

  /** Re-evaluates the mode as time passes (homeostasis can change it without any event). */
  tick(): SentienceMode {
    const mode = this.mode();
    if (mode !== this.lastMode) this.changed();
    return mode;
  }

  snapshot(): SentienceSnapshot {
    const values = this.current();
    const s: SentienceSnapshot = {
      mode: this.mode(values),
      values: { safety: round(values.safety), curiosity: round(values.curiosity), energy: round(values.energy), confidence: round(values.confidence) },
      set_points: { ...this.config.set_points },
      updated_at: this.clock.wallNow().toISOString(),
    };
    if (this.lastEvent) s.last_event = this.lastEvent;
    return s;
  }

  /** A compact internal-state block for LLM prompts. */
  promptBlock(): string {
    const s = this.snapshot();
    const v = s.values;
    const guidance: Record<SentienceMode, string> = {
      RECOVERY: 'resources or trust are low: use known patterns only, keep it short',
      CAUTIOUS: 'safety is low: prefer known patterns, move slowly, expect confirmations',
      AUTO_CREATIVE: 'curious and confident: solve the task, then you may suggest one improvement',
      AUTO_CONTAINED: 'stay strictly on task, no extras',
      BALANCED: 'act normally',
    };
    return `[internal state] mode=${s.mode} safety=${v.safety} curiosity=${v.curiosity} energy=${v.energy} confidence=${v.confidence}\nguidance: ${guidance[s.mode]}`;
  }

  /** Waits for pending writes of the state file. */
  async flush(): Promise<void> {
    await this.saving;
  }

  /** Folds homeostasis into the stored values (so deltas apply to what is true now). */
  private settle(): void {
    this.values = this.current();
    this.at = this.clock.now();
  }

  private changed(): SentienceSnapshot {
    const snap = this.snapshot();
    if (snap.mode !== this.lastMode) {
      this.events.emit('mode', { from: this.lastMode, to: snap.mode });
      this.lastMode = snap.mode;
    }
    this.events.emit('change', snap);
    this.scheduleSave();
    return snap;
  }

  /** One atomic write per turn of the event loop, however many events happened in it. */
  private scheduleSave(): void {
    if (!this.file || this.saveQueued) return;
    this.saveQueued = true;
    const file = this.file;
    this.saving = this.saving.then(async () => {
      await new Promise((r) => setImmediate(r));
      this.saveQueued = false;
      const p: Persisted = { version: 1, values: this.current(), at: this.clock.wallNow().toISOString(), ...(this.lastEvent ? { last_event: this.lastEvent } : {}) };
      await writeFileAtomic(file, `${JSON.stringify(p, null, 2)}\n`).catch((e: unknown) => this.onSaveError?.(`could not save ${file}: ${(e as Error).message}`));
    });
  }
}
