/**
 * What the outputs are doing, read from the channel states the guarded drivers keep: whether an
 * actuator is away from rest (moving), its level for interlocks, the snapshot for `state`, and
 * what the out-of-process watchdog writes to make each driver safe. Read-only: nothing here writes.
 */
import type { SafeWrite } from '../drivers/failsafe.js';
import type { ActuatorSpec, ActuatorValue, BoardProfile, FailsafeTarget } from '../drivers/types.js';
import { LlmosError } from '../lib/errors.js';
import { isMotion } from './board-profile.js';
import { EPS, numeric, type ChannelState, type GuardedDriver, type Side } from './guarded-driver.js';
import { RELEASED } from './servo-stop.js';

export type ActuatorSnapshot = Record<string, ActuatorValue | Record<Side, number | boolean | null> | null>;

export class Channels {
  private readonly profile: BoardProfile;
  private readonly states = new Map<string, ChannelState>();

  constructor(profile: BoardProfile, states: Iterable<ChannelState>) {
    this.profile = profile;
    for (const s of states) this.states.set(s.key, s);
  }

  of(spec: ActuatorSpec, channel: Side | undefined): ChannelState {
    const key = channel ? `${spec.name}.${channel}` : spec.name;
    const s = this.states.get(key);
    if (!s) throw new LlmosError('ERR_ACTUATOR_UNKNOWN', `no channel ${key}`);
    return s;
  }

  all(spec: ActuatorSpec): ChannelState[] {
    return spec.type === 'differential_drive' ? [this.of(spec, 'left'), this.of(spec, 'right')] : [this.of(spec, undefined)];
  }

  value(key: string): number | boolean | undefined {
    return this.states.get(key)?.value;
  }

  /** Numeric magnitude used by interlocks: the largest |value| over an actuator's channels. */
  level(name: string): number | undefined {
    const spec = this.profile.actuators.get(name);
    if (!spec) return undefined;
    if (spec.type === 'differential_drive') {
      const l = numeric(this.states.get(`${name}.left`)?.value) ?? 0;
      const r = numeric(this.states.get(`${name}.right`)?.value) ?? 0;
      return Math.abs(l) >= Math.abs(r) ? l : r;
    }
    return numeric(this.states.get(name)?.value);
  }

  /** Away from its safe value (for motion actuators: moving). */
  isActive(name: string): boolean {
    const spec = this.profile.actuators.get(name);
    if (!spec || spec.safe_value === 'hold' || spec.type === 'serial_line') return false;
    const safe = numeric(spec.safe_value as number | boolean) ?? 0;
    for (const ch of this.all(spec)) {
      // Unknown after a failed write, or commanded away from rest: it may be moving.
      if (ch.uncertain) return true;
      const v = numeric(ch.commanded ?? ch.value);
      if (v !== undefined && Math.abs(v - safe) > EPS) return true;
    }
    return false;
  }

  /** True while any motion actuator (drive base, motor) is away from its safe value. */
  motionActive(): boolean {
    for (const spec of this.profile.actuators.values()) if (isMotion(spec) && this.isActive(spec.name)) return true;
    return false;
  }

  snapshot(): ActuatorSnapshot {
    const out: ActuatorSnapshot = {};
    for (const spec of this.profile.actuators.values()) {
      if (spec.type === 'serial_line') continue;
      if (spec.type === 'differential_drive') {
        out[spec.name] = {
          left: this.states.get(`${spec.name}.left`)?.value ?? null,
          right: this.states.get(`${spec.name}.right`)?.value ?? null,
        };
      } else {
        out[spec.name] = this.states.get(spec.name)?.value ?? null;
      }
    }
    return out;
  }

  /** For each driver that can be reached from another process: what to write to make it safe. */
  failsafePlan(drivers: ReadonlyMap<string, GuardedDriver>): Array<{ target: FailsafeTarget; safe: SafeWrite[] }> {
    const plan: Array<{ target: FailsafeTarget; safe: SafeWrite[] }> = [];
    for (const [name, driver] of drivers) {
      const target = driver.failsafeTarget();
      if (!target) continue;
      const safe: SafeWrite[] = [];
      for (const spec of this.profile.actuators.values()) {
        if (spec.driver !== name || spec.safe_value === 'hold' || spec.type === 'serial_line') continue;
        // A servo is released (no pulses), never sent to an angle at full speed.
        for (const ch of this.all(spec)) safe.push({ actuator: spec.name, ...(ch.channel ? { channel: ch.channel } : {}), value: spec.type === 'servo' ? RELEASED : spec.safe_value });
      }
      plan.push({ target, safe });
    }
    return plan;
  }
}
