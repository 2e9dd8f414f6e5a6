/**
 * What the sentience state changes, predictably:
 *   CAUTIOUS        the gate's speed scale drops (default 0.5) and motion that is not a replay of
 *                   learned behaviour (FOLLOWER / CRYSTALLIZED) needs a confirmation (ASK);
 *   RECOVERY        no LLM calls unless the request explicitly allows them; learned patterns only;
 *   AUTO_CONTAINED  learned patterns only (no MIXED, no LEARNER);
 *   AUTO_CREATIVE   the agentic follower may publish improvement suggestions.
 * It also feeds the state: run outcomes, repetition, novelty, LLM cost, safety rejections, e-stops,
 * and, when the board has a battery sensor, the measured charge as energy.
 */
import { isRefusal } from '../../lib/errors.js';
import type { BoardProfile } from '../../drivers/types.js';
import type { SafetyGate } from '../../safety/gate.js';
import type { SentienceConfig } from '../config.js';
import type { ExecutionResult } from '../result.js';
import type { Sentience, SentienceMode } from './sentience.js';

/** Costlier than this many LLM calls in one goal counts as a high-cost task. */
const HIGH_COST_LLM_CALLS = 3;
/** The battery is read at most this often. */
const BATTERY_READ_INTERVAL_MS = 5000;

export interface DispatchPolicy {
  allowLlm: boolean;
  learnedOnly: boolean;
  /** Why the policy differs from the request, for error messages. */
  reason?: string;
}

export class SentienceEffects {
  private readonly sentience: Sentience;
  private readonly gate: SafetyGate;
  private readonly config: SentienceConfig;
  private readonly battery: { name: string; unit?: string } | undefined;
  private readonly off: Array<() => void> = [];
  private lastTrace: string | null = null;
  private lastBatteryRead = -Infinity;
  private appliedMode: SentienceMode | undefined;

  constructor(options: { sentience: Sentience; gate: SafetyGate; config: SentienceConfig; profile: BoardProfile }) {
    this.sentience = options.sentience;
    this.gate = options.gate;
    this.config = options.config;
    const battery = [...options.profile.sensors.values()].find((s) => s.role === 'battery');
    this.battery = battery ? { name: battery.name, ...(battery.unit ? { unit: battery.unit } : {}) } : undefined;
    // Energy then follows the measured charge only: no cost-model deltas, no homeostasis.
    if (this.battery) options.sentience.measure('energy');
    this.off.push(this.gate.addHook('pre_tool_use', (input) => {
      if (this.sentience.mode() !== 'CAUTIOUS' || input.replay || !input.definition?.motion) return undefined;
      const safety = this.sentience.snapshot().values.safety;
      return { decision: 'ASK', reason: `CAUTIOUS mode (safety ${safety}): confirm this motion` };
    }));
    this.off.push(this.gate.events.on('decision', (d) => {
      // Reflexes count once per event below, not again for the call they failed; an engaged
      // e-stop counts once as 'estop', not again for every call it refuses.
      if (d.decision === 'reject' && isRefusal(d.code) && d.code !== 'ERR_SAFETY_REFLEX' && d.code !== 'ERR_ESTOP_ENGAGED') this.sentience.trigger('safety_rejection');
    }));
    this.off.push(this.gate.events.on('reflex', () => this.sentience.trigger('safety_rejection')));
    this.off.push(this.gate.events.on('estop', (e) => { if (e.engaged) this.sentience.trigger('estop'); }));
    this.off.push(this.sentience.events.on('mode', () => this.apply()));
    this.apply();
  }

  /** Brings the gate in line with the current mode (speed scale); cheap when nothing changed. */
  apply(): SentienceMode {
    const mode = this.sentience.tick();
    if (mode !== this.appliedMode) {
      this.gate.setSpeedScale(mode === 'CAUTIOUS' ? this.config.cautious_speed_scale : 1);
      this.appliedMode = mode;
    }
    return mode;
  }

  /** What a goal may use now. `overrideLlm` is the request's explicit permission to use the LLM in RECOVERY. */
  policy(requested: { allowLlm: boolean; overrideLlm?: boolean }): DispatchPolicy {
    const mode = this.apply();
    if (mode === 'RECOVERY' && requested.allowLlm && !requested.overrideLlm) {
      return { allowLlm: false, learnedOnly: true, reason: 'RECOVERY mode: LLM calls are off unless the request allows them (allow_llm_in_recovery)' };
    }
    if (mode === 'AUTO_CONTAINED') return { allowLlm: requested.allowLlm, learnedOnly: true, reason: 'AUTO_CONTAINED mode: learned patterns only' };
    return { allowLlm: requested.allowLlm, learnedOnly: false };
  }

  /** The agentic follower may publish improvement suggestions (AUTO_CREATIVE). */
  allowsSuggestions(): boolean {
    return this.sentience.mode() === 'AUTO_CREATIVE';
  }

  /** Feeds a finished goal's outcome into the state. */
  async afterRun(result: ExecutionResult): Promise<void> {
    if (result.explain) return;
    if (result.mode === 'REFUSED' || result.mode === 'LEARNER') this.sentience.trigger('novel_task');
    else if (result.trace !== null && result.trace === this.lastTrace) this.sentience.trigger('repetition');
    if (result.mode !== 'REFUSED') this.sentience.trigger(result.ok ? 'task_success' : 'task_failure');
    if (result.llm_calls >= HIGH_COST_LLM_CALLS) this.sentience.trigger('high_cost', result.llm_calls / HIGH_COST_LLM_CALLS);
    this.lastTrace = result.trace;
    await this.readBattery();
  }

  /** Reads the battery once at start, so a charged robot does not boot into a stale RECOVERY. */
  async start(): Promise<void> {
    await this.readBattery();
  }

  /** Energy follows the measured charge when the board has a battery sensor. */
  private async readBattery(): Promise<void> {
    if (!this.battery) return;
    const now = this.sentience.now();
    if (now - this.lastBatteryRead < BATTERY_READ_INTERVAL_MS) return;
    this.lastBatteryRead = now;
    try {
      const r = await this.gate.call({ name: 'sensor_read', args: { sensor: this.battery.name } }, { source: 'api', runId: 'sentience' });
      const raw = (r.value as { value?: unknown }).value;
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return;
      const charge = this.battery.unit === '%' || this.battery.unit === 'percent' || raw > 1 ? raw / 100 : raw;
      this.sentience.set('energy', 2 * Math.max(0, Math.min(1, charge)) - 1, 'battery');
    } catch {
      // No reading this time: energy keeps its last measured value until the next one.
    }
  }

  close(): void {
    for (const f of this.off.splice(0)) f();
  }
}
