/**
 * Where a pin is written. A GuardedDriver wraps one driver and implements the same `Driver`
 * interface (the way undici's wrappers are dispatchers), so "every write passes the gate" is a
 * type: the motion controller (actuators.ts) holds only guarded drivers. Every command write
 * passes the latch (e-stop or watchdog), the runtime's alive check, the declared range and the
 * maximum rate of change, and a driver that queues checks the latch again right before the bytes
 * go out. Stops (`writeSafe`) pass the latch and the rate bound: cutting power is always allowed.
 * It keeps each channel's last value, the write still in flight and whether a failed write left
 * the hardware's state unknown.
 */
import type { Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import type {
  ActuatorSpec, ActuatorValue, Driver, DriverCapabilities, FailsafeTarget, ProbeResult, SensorReading, SensorSpec, WriteTarget,
} from '../drivers/types.js';
import { isMotion } from './board-profile.js';
import { RELEASED } from './servo-stop.js';
import { checkRate } from './rate-bound.js';

export type Side = 'left' | 'right';

export const EPS = 1e-9;

export function numeric(v: number | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

export interface ChannelState {
  key: string;
  spec: ActuatorSpec;
  channel: Side | undefined;
  /** Last value written; undefined until the first write for servos that `hold`. */
  value: number | boolean | undefined;
  /**
   * The value of the newest write handed to the driver, finished or not. Stops decide from it:
   * a write still in flight has (or will have) reached the hardware, so it must be undone too.
   */
  commanded?: number | boolean;
  /** A write to this channel failed: where the hardware stands is unknown, so a stop must write. */
  uncertain?: boolean;
  lastWriteAt: number | undefined;
}

/** An actuator's channels as open leaves them (a drive base has two). */
export function initialChannels(spec: ActuatorSpec): ChannelState[] {
  const sides: Array<Side | undefined> = spec.type === 'differential_drive' ? ['left', 'right'] : [undefined];
  return sides.map((channel) => {
    const key = channel ? `${spec.name}.${channel}` : spec.name;
    const safe = spec.safe_value;
    // After open, drivers leave outputs at their safe state; a `hold` servo's position is unknown.
    const value = safe === 'hold' ? undefined : spec.type === 'serial_line' ? undefined : safe;
    return { key, spec, channel, value, lastWriteAt: undefined };
  });
}

/** What every guarded driver of one board shares: the latch, the alive check, the write tickets. */
export interface GuardContext {
  readonly clock: Clock;
  readonly rampTickMs: number;
  /** The e-stop (or watchdog / shutdown) latch: set = every write except a stop is refused. */
  latched(): LlmosError | undefined;
  /** Throws when the runtime has stalled (the watchdog's local check); runs before every command write. */
  aliveCheck(): ((motion: boolean) => void) | undefined;
  /** Writes handed to a driver and not yet returned (one entry each, even at the same instant). */
  readonly inflight: Set<{ started: number }>;
  onWrite(payload: { actuator: string; channel?: Side; value: ActuatorValue }): void;
  onDriverError(payload: { actuator: string; error: LlmosError }): void;
}

export class GuardedDriver implements Driver {
  readonly name: string;
  readonly type: Driver['type'];
  readonly capabilities: DriverCapabilities;
  /** Present only when the wrapped driver can stop a servo's pulses. */
  readonly release?: (target: WriteTarget) => Promise<void>;
  readonly probe?: (actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]) => Promise<ProbeResult[]>;
  readonly watch?: NonNullable<Driver['watch']>;
  private readonly inner: Driver;
  private readonly ctx: GuardContext;
  private readonly channels = new Map<string, ChannelState>();

  constructor(inner: Driver, actuators: Iterable<ActuatorSpec>, ctx: GuardContext) {
    this.inner = inner;
    this.ctx = ctx;
    this.name = inner.name;
    this.type = inner.type;
    this.capabilities = inner.capabilities;
    if (inner.release) this.release = (target) => this.releaseOutput(target);
    if (inner.probe) this.probe = (a, s) => (inner.probe as NonNullable<Driver['probe']>).call(inner, a, s);
    if (inner.watch) this.watch = (spec, onChange, onLost) => (inner.watch as NonNullable<Driver['watch']>).call(inner, spec, onChange, onLost);
    for (const spec of actuators) for (const s of initialChannels(spec)) this.channels.set(s.key, s);
  }

  /** The state of one channel this driver carries (read by the motion controller). */
  channel(spec: ActuatorSpec, channel: Side | undefined): ChannelState {
    const key = channel ? `${spec.name}.${channel}` : spec.name;
    const s = this.channels.get(key);
    if (!s) throw new LlmosError('ERR_ACTUATOR_UNKNOWN', `no channel ${key}`);
    return s;
  }

  open(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<void> {
    return this.inner.open(actuators, sensors);
  }

  read(sensor: SensorSpec): Promise<SensorReading> {
    return this.inner.read(sensor);
  }

  failsafeTarget(): FailsafeTarget | undefined {
    return this.inner.failsafeTarget?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * A command write: latch, alive check, declared range, maximum rate of change. `guard` (the
   * caller's own "may this still happen", e.g. not superseded) runs with the latch check right
   * before the bytes go out. The rate bound holds for every write (rate-bound.ts): the first
   * after boot is measured from the safe value the outputs were left at.
   */
  async write(target: WriteTarget, value: ActuatorValue, guard?: () => void): Promise<void> {
    const state = this.stateOf(target);
    const latch = this.ctx.latched();
    if (latch) throw latch;
    this.ctx.aliveCheck()?.(isMotion(state.spec));
    await this.checkedWrite(state, this.inRange(state, value), false, guard);
  }

  /** A stop's write: passes the latch and the rate bound, never the declared range. */
  async writeSafe(target: WriteTarget, value: number | boolean): Promise<void> {
    const state = this.stateOf(target);
    await this.checkedWrite(state, this.inRange(state, value), true, undefined);
  }

  /** Writes a serial line; serial devices have no range, but the latch still applies. */
  async request(actuator: ActuatorSpec, line: string, options: { awaitReply: boolean; timeoutMs?: number; guard?: () => void }): Promise<string | undefined> {
    const latch = this.ctx.latched();
    if (latch) throw latch;
    if (!this.inner.request) throw new LlmosError('ERR_DRIVER', `driver "${this.inner.name}" cannot send serial lines`);
    try {
      const guard = (): void => { const l = this.ctx.latched(); if (l) throw l; options.guard?.(); };
      const reply = await this.inner.request(actuator, line, { awaitReply: options.awaitReply, guard, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
      this.ctx.onWrite({ actuator: actuator.name, value: line });
      return reply;
    } catch (e) {
      throw e instanceof LlmosError ? e : new LlmosError('ERR_DRIVER', `${actuator.name}: serial request failed: ${(e as Error).message}`, undefined, { cause: e });
    }
  }

  /** A servo's category-0 stop: no more pulses; where it stands is unknown from now on. */
  private async releaseOutput(target: WriteTarget): Promise<void> {
    const state = this.stateOf(target);
    state.commanded = undefined;
    await (this.inner.release as NonNullable<Driver['release']>)({ actuator: target.actuator });
    Object.assign(state, { value: undefined, uncertain: false, lastWriteAt: this.ctx.clock.now() });
    this.ctx.onWrite({ actuator: target.actuator.name, value: RELEASED });
  }

  private stateOf(target: WriteTarget): ChannelState {
    return this.channel(target.actuator, target.channel);
  }

  private inRange(state: ChannelState, value: ActuatorValue): number | boolean {
    if (typeof value === 'string') throw new LlmosError('ERR_TOOL_ARGS', `${state.key}: a text value goes through request(), not write()`);
    if (typeof value !== 'number') return value;
    if (!Number.isFinite(value)) throw new LlmosError('ERR_SAFETY_RANGE', `${state.key}: ${value} is not a finite number`);
    const [lo, hi] = state.spec.range;
    if (value < lo - EPS || value > hi + EPS) {
      throw new LlmosError('ERR_SAFETY_RANGE', `${state.key}: ${value} is outside the declared range [${lo}, ${hi}]`);
    }
    return Math.min(hi, Math.max(lo, value));
  }

  private async checkedWrite(state: ChannelState, value: number | boolean, safe: boolean, callerGuard: (() => void) | undefined): Promise<void> {
    const { spec } = state;
    const { clock } = this.ctx;
    if (!safe && typeof value === 'number' && spec.max_rate !== undefined) {
      checkRate(state.key, spec.max_rate, numeric(state.value), value, state.lastWriteAt, clock.now(), this.ctx.rampTickMs);
    }
    const before = state.commanded;
    let refused: unknown;
    state.commanded = value;
    const target: WriteTarget = state.channel ? { actuator: spec, channel: state.channel } : { actuator: spec };
    const ticket = { started: clock.now() };
    this.ctx.inflight.add(ticket);
    try {
      // A driver that queues (serial) checks again right before the bytes go out.
      const guard = safe ? undefined : (): void => {
        try {
          const l = this.ctx.latched();
          if (l) throw l;
          callerGuard?.();
        } catch (no) {
          refused = no;
          throw no;
        }
      };
      await this.inner.write(target, value, guard);
    } catch (e) {
      if (refused !== undefined && e === refused) {
        // Refused before anything went out: not a driver fault, and the output did not change.
        if (state.commanded === value) state.commanded = before;
        throw e;
      }
      state.uncertain = true;
      const error = e instanceof LlmosError ? e : new LlmosError('ERR_DRIVER', `${state.key}: driver write failed: ${(e as Error).message ?? String(e)}`, undefined, { cause: e });
      this.ctx.onDriverError({ actuator: spec.name, error });
      throw error;
    } finally {
      this.ctx.inflight.delete(ticket);
    }
    // Writes can complete out of order on an async driver: the newest one handed over wins.
    if (state.commanded === value) {
      state.value = value;
      state.uncertain = false;
    }
    state.lastWriteAt = clock.now();
    this.ctx.onWrite({ actuator: spec.name, ...(state.channel ? { channel: state.channel } : {}), value });
  }
}
