/**
 * Who owns each actuator's motion and the timers that end it: the command token (a ramp or hold
 * whose token is stale quits), the deadman window (a motion not refreshed stops) and the maximum
 * continuous run time. The motion controller (actuators.ts) drives these; the timers call back
 * into its `stop`.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import type { ActuatorSpec } from '../drivers/types.js';
import { isMotion } from './board-profile.js';
import { EPS } from './guarded-driver.js';

export interface MotionState {
  /** Bumped by every new command, stop and e-stop: a ramp or hold whose token is stale quits. */
  token: number;
  owner: string | undefined;
  activeSince: number | undefined;
  deadline: number | undefined;
  deadmanTimer: TimerHandle | undefined;
  runLimitTimer: TimerHandle | undefined;
}

export interface MotionTimerHooks {
  clock: Clock;
  deadmanMs: number;
  isActive(name: string): boolean;
  stop(spec: ActuatorSpec, reason: string): Promise<void>;
  deadman(payload: { actuator: string; owner: string | undefined }): void;
  runLimit(payload: { actuator: string; max_run_ms: number }): void;
  driverError(payload: { actuator: string; error: LlmosError }): void;
}

export class MotionTimers {
  private readonly motion = new Map<string, MotionState>();
  private readonly h: MotionTimerHooks;

  constructor(actuators: Iterable<ActuatorSpec>, hooks: MotionTimerHooks) {
    this.h = hooks;
    for (const spec of actuators) {
      this.motion.set(spec.name, { token: 0, owner: undefined, activeSince: undefined, deadline: undefined, deadmanTimer: undefined, runLimitTimer: undefined });
    }
  }

  of(spec: ActuatorSpec): MotionState {
    const m = this.motion.get(spec.name);
    if (!m) throw new LlmosError('ERR_ACTUATOR_UNKNOWN', `no actuator ${spec.name}`);
    return m;
  }

  deadmanMsOf(spec: ActuatorSpec): number {
    return spec.deadman_ms ?? this.h.deadmanMs;
  }

  /** Milliseconds this actuator has been away from its safe value (0 when at rest). */
  runningFor(spec: ActuatorSpec): number {
    const since = this.of(spec).activeSince;
    return since === undefined ? 0 : this.h.clock.now() - since;
  }

  /** Extends the deadman deadline of a moving actuator. */
  refresh(spec: ActuatorSpec): void {
    const m = this.of(spec);
    const { clock } = this.h;
    if (!this.h.isActive(spec.name)) return;
    m.deadline = clock.now() + this.deadmanMsOf(spec);
    clock.clearTimeout(m.deadmanTimer);
    const token = m.token;
    m.deadmanTimer = clock.setTimeout(() => {
      if (m.token !== token || m.deadline === undefined || clock.now() + EPS < m.deadline) return;
      this.h.deadman({ actuator: spec.name, owner: m.owner });
      void this.h.stop(spec, 'deadman').catch((e: unknown) => this.report(spec, e));
    }, this.deadmanMsOf(spec));
  }

  /** After a command's write: start the run-time limit when motion starts, refresh the deadman. */
  afterWrite(spec: ActuatorSpec, owner: string): void {
    if (!isMotion(spec)) return;
    const m = this.of(spec);
    m.owner = owner;
    if (this.h.isActive(spec.name)) {
      if (m.activeSince === undefined) {
        m.activeSince = this.h.clock.now();
        const limit = spec.max_run_ms;
        if (limit !== undefined) {
          m.runLimitTimer = this.h.clock.setTimeout(() => {
            if (!this.h.isActive(spec.name)) return;
            this.h.runLimit({ actuator: spec.name, max_run_ms: limit });
            void this.h.stop(spec, 'max_run_ms').catch((e: unknown) => this.report(spec, e));
          }, limit);
        }
      }
      this.refresh(spec);
    } else {
      this.clear(spec);
    }
  }

  clear(spec: ActuatorSpec): void {
    const m = this.of(spec);
    this.h.clock.clearTimeout(m.deadmanTimer);
    this.h.clock.clearTimeout(m.runLimitTimer);
    m.deadmanTimer = undefined;
    m.runLimitTimer = undefined;
    m.deadline = undefined;
    m.activeSince = undefined;
  }

  private report(spec: ActuatorSpec, e: unknown): void {
    const error = e instanceof LlmosError ? e : new LlmosError('ERR_DRIVER', `${spec.name}: ${String(e)}`);
    this.h.driverError({ actuator: spec.name, error });
  }
}
