/**
 * The motion controller. The ActuatorBank holds the board's drivers only as GuardedDrivers
 * (guarded-driver.ts: latch, range, rate, write tickets, the check just before bytes go out), so
 * it cannot reach a pin around the gate. Here live who owns a motion, ramps, holds, deadman
 * windows, maximum run time and stop categories (IEC 60204-1: 0 = cut at once, 1 = controlled
 * ramp, then cut); `command(...)` is the one claim-move-hold-settle sequence the tools use.
 */
import type { Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import type { SafeWrite } from '../drivers/failsafe.js';
import type { ActuatorSpec, ActuatorValue, BoardProfile, Driver, FailsafeTarget, SensorReading, WriteTarget } from '../drivers/types.js';
import { isMotion } from './board-profile.js';
import { servoStop } from './servo-stop.js';
import { assertHoldFinishes, assertMoveFinishes } from './time-limits.js';
import { rampStep } from './rate-bound.js';
import { EPS, GuardedDriver, initialChannels, numeric, type ChannelState, type Side } from './guarded-driver.js';
import { Channels, type ActuatorSnapshot } from './channels.js';
import { MotionTimers, type MotionState } from './motion-timers.js';
import type { SafetyLatch } from './latch.js';

export interface BankEvents {
  write: { actuator: string; channel?: Side; value: ActuatorValue };
  deadman: { actuator: string; owner: string | undefined };
  runLimit: { actuator: string; max_run_ms: number };
  driverError: { actuator: string; error: LlmosError };
  /** A stop could not bring every channel to its safe value (the gate latches the e-stop). */
  stopFailed: { actuator: string; error: LlmosError };
  /** A sensor answered (a sensor_read call, a reflex's poll): run timelines record it. */
  read: { sensor: string } & SensorReading;
}

export interface BankOptions {
  deadmanMs: number;
  rampTickMs: number;
  /** The longest one ramp or hold may take; longer is refused (ERR_TIME_LIMIT). */
  maxStepMs?: number;
  latch: SafetyLatch;
  emit: <K extends keyof BankEvents>(event: K, payload: BankEvents[K]) => void;
}

/** Where a command's abort signal comes from; read only by ramps and holds, which can wait. */
export interface AbortSource {
  readonly signal: AbortSignal;
}

/** One step of `command`: where the channels go, how fast, and what follows. */
export interface Command {
  owner: string;
  abort: AbortSource | undefined;
  targets: ReadonlyArray<{ channel: Side | undefined; value: number | boolean }>;
  rate: number | undefined;
  /** Hold the targets this long, then move to `rest` (a timed motion). */
  holdMs?: number;
  rest?: ReadonlyArray<{ channel: Side | undefined; value: number | boolean }>;
  /** An open-ended motion: arm the deadman; the owner must refresh it. */
  openEnded?: boolean;
}

export class ActuatorBank {
  private readonly channels: Channels;
  private readonly timers: MotionTimers;
  /** Every driver of the board, wrapped: the controller never sees an unguarded one. */
  private readonly guarded = new Map<string, GuardedDriver>();
  /** Shared with the gate: the e-stop (or a halt); every write but a stop is refused while set. */
  private readonly latch: SafetyLatch;
  /** Throws when the runtime has stalled (the watchdog's local check); runs before every motion write. */
  private aliveCheck: ((motion: boolean) => void) | undefined;
  /** Writes handed to a driver and not yet returned (one entry each, even at the same instant). */
  private readonly inflightWrites = new Set<{ started: number }>();

  readonly profile: BoardProfile;
  private readonly drivers: ReadonlyMap<string, Driver>;
  private readonly clock: Clock;
  private readonly options: BankOptions;

  constructor(profile: BoardProfile, drivers: ReadonlyMap<string, Driver>, clock: Clock, options: BankOptions) {
    this.profile = profile;
    this.drivers = drivers;
    this.clock = clock;
    this.options = options;
    this.latch = options.latch;
    const ctx = {
      clock, rampTickMs: options.rampTickMs, latched: () => this.latch.refusal, aliveCheck: () => this.aliveCheck, inflight: this.inflightWrites,
      onWrite: (p: BankEvents['write']) => options.emit('write', p), onDriverError: (p: BankEvents['driverError']) => options.emit('driverError', p),
    };
    const all = [...profile.actuators.values()];
    for (const [name, driver] of drivers) this.guarded.set(name, new GuardedDriver(driver, all.filter((a) => a.driver === name), ctx));
    // An actuator whose driver is not open keeps a channel state too (its writes fail in driverFor).
    this.channels = new Channels(profile, all.flatMap((spec) => {
      const g = this.guarded.get(spec.driver);
      return g ? initialChannels(spec).map((c) => g.channel(spec, c.channel)) : initialChannels(spec);
    }));
    this.timers = new MotionTimers(all, {
      clock, deadmanMs: options.deadmanMs, isActive: (name) => this.channels.isActive(name), stop: (spec, reason) => this.stop(spec, reason),
      deadman: (p) => options.emit('deadman', p), runLimit: (p) => options.emit('runLimit', p), driverError: (p) => options.emit('driverError', p),
    });
  }

  noteRead(sensor: string, reading: SensorReading): void {
    this.options.emit('read', { sensor, ...reading });
  }

  driverFor(spec: { driver: string; name: string }): GuardedDriver {
    const d = this.guarded.get(spec.driver);
    if (!d) throw new LlmosError('ERR_DRIVER', `no open driver "${spec.driver}" for ${spec.name}`);
    return d;
  }

  setAliveCheck(check: ((motion: boolean) => void) | undefined): void {
    this.aliveCheck = check;
  }

  /** How long the oldest driver write still in flight has been pending (0 when none). */
  stuckWriteMs(): number {
    let oldest = Infinity;
    for (const w of this.inflightWrites) oldest = Math.min(oldest, w.started);
    return oldest === Infinity ? 0 : this.clock.now() - oldest;
  }

  /** True while any motion actuator (drive base, motor) is away from its safe value. */
  motionActive(): boolean { return this.channels.motionActive(); }

  /** For each driver that can be reached from another process: what to write to make it safe. */
  failsafePlan(): Array<{ target: FailsafeTarget; safe: SafeWrite[] }> { return this.channels.failsafePlan(this.guarded); }

  channelValue(key: string): number | boolean | undefined { return this.channels.value(key); }

  /** Numeric magnitude used by interlocks: the largest |value| over an actuator's channels. */
  level(name: string): number | undefined { return this.channels.level(name); }

  /** Away from its safe value (for motion actuators: moving). */
  isActive(name: string): boolean { return this.channels.isActive(name); }

  snapshot(): ActuatorSnapshot { return this.channels.snapshot(); }

  /** Starts a new command on an actuator: earlier ramps and holds on it stop at their next tick. */
  claim(spec: ActuatorSpec, owner: string): number {
    // A command that got past the gate's e-stop check (e.g. while its hooks ran) must not take
    // the outputs from the e-stop's stop.
    if (this.latch.refusal) throw this.latch.refusal;
    const m = this.motionOf(spec);
    m.token += 1;
    m.owner = owner;
    return m.token;
  }

  /**
   * One command on one actuator: claim it, move (ramping at `rate`), then either return, arm the
   * deadman (open-ended) or hold and move to rest; a timed or open-ended motion always settles.
   */
  async command(spec: ActuatorSpec, c: Command): Promise<void> {
    const token = this.claim(spec, c.owner);
    const move = { token, rate: c.rate, abort: c.abort, owner: c.owner };
    if (c.holdMs === undefined && !c.openEnded) { await this.moveTo(spec, c.targets, move); return; }
    try {
      await this.moveTo(spec, c.targets, move);
      if (c.openEnded) { this.armDeadman(spec); return; }
      await this.hold(spec, c.holdMs as number, { token, abort: c.abort });
      await this.moveTo(spec, c.rest ?? [], move);
    } finally {
      this.settle(spec);
    }
  }

  isCurrent(spec: ActuatorSpec, token: number): boolean {
    return this.motionOf(spec).token === token;
  }

  /**
   * Moves the channels of one actuator together to their targets, stepping no faster than
   * `rate` units per second (undefined = at once). Rejects when the profile says reject and the
   * change is too fast. Throws ERR_ABORTED if superseded, e-stopped or aborted.
   */
  async moveTo(
    spec: ActuatorSpec,
    targets: ReadonlyArray<{ channel: Side | undefined; value: number | boolean }>,
    opts: { token: number; rate: number | undefined; abort: AbortSource | undefined; owner: string },
  ): Promise<void> {
    const states = targets.map((t) => ({ state: this.channelOf(spec, t.channel), target: t.value }));
    const ramp = opts.rate !== undefined && spec.on_rate === 'ramp';
    if (!ramp) {
      for (const { state, target } of states) await this.writeChecked(state, target, { safe: false, token: opts.token });
      this.timers.afterWrite(spec, opts.owner);
      return;
    }
    const rate = opts.rate as number;
    assertMoveFinishes(spec.name, states.map(({ state, target }) => ({ cur: numeric(state.commanded ?? state.value), goal: numeric(target) as number })), rate, this.options.maxStepMs);
    for (;;) {
      this.assertLive(spec, opts.token, opts.abort?.signal);
      const now = this.clock.now();
      let done = true;
      for (const { state, target } of states) {
        const cur = numeric(state.value);
        const goal = numeric(target) as number;
        if (cur === undefined) { await this.writeChecked(state, target, { safe: false, token: opts.token }); continue; }
        if (Math.abs(goal - cur) <= EPS) continue;
        // Steps are truncated to 4 decimals (towards the current value) so logged values stay readable and never exceed the rate.
        let maxStep = Math.floor(rate * this.stepSeconds(state, now) * 1e4) / 1e4;
        // Very slow rates: wait until a whole 0.0001 step is due.
        // One quantum at a time, so no write exceeds the rate bound (rate-bound.ts).
        if (maxStep <= EPS && (state.lastWriteAt === undefined || rate * ((now - state.lastWriteAt) / 1000) >= 1e-4 - EPS)) maxStep = 1e-4;
        if (maxStep <= EPS) { done = false; continue; }
        const next = Math.abs(goal - cur) <= maxStep ? goal : rampStep(cur, goal, maxStep);
        await this.writeChecked(state, typeof target === 'boolean' ? target : next, { safe: false, token: opts.token });
        if (Math.abs(goal - next) > EPS) done = false;
      }
      this.timers.afterWrite(spec, opts.owner);
      if (done) return;
      await this.clock.sleep(this.options.rampTickMs, opts.abort?.signal);
    }
  }

  /** Keeps a motion going for `ms`, refreshing its deadman as long as the command is current. */
  async hold(spec: ActuatorSpec, ms: number, opts: { token: number; abort: AbortSource | undefined }): Promise<void> {
    assertHoldFinishes(spec.name, ms, this.options.maxStepMs);
    const end = this.clock.now() + ms;
    const window = this.deadmanMsOf(spec);
    for (;;) {
      this.assertLive(spec, opts.token, opts.abort?.signal);
      this.timers.refresh(spec);
      const left = end - this.clock.now();
      if (left <= EPS) return;
      await this.clock.sleep(Math.min(left, Math.max(5, window / 3)), opts.abort?.signal);
    }
  }

  /** Extends the deadman deadline of every motion the owner started. */
  refreshOwner(owner: string): void {
    for (const spec of this.profile.actuators.values()) {
      const m = this.motionOf(spec);
      if (m.owner === owner && m.deadline !== undefined) this.timers.refresh(spec);
    }
  }

  /** Stops every motion the owner started that is still running (its run ended). */
  async stopOwned(owner: string): Promise<void> {
    const owned = [...this.profile.actuators.values()].filter((s) => isMotion(s) && this.motionOf(s).owner === owner && this.isActive(s.name));
    await Promise.allSettled(owned.map((s) => this.stop(s, 'run ended')));
  }

  /** Stops one actuator: category 0 writes the safe value at once, category 1 ramps down first. */
  async stop(spec: ActuatorSpec, reason: string, category: 0 | 1 = spec.stop_category): Promise<void> {
    const m = this.motionOf(spec);
    m.token += 1;
    const token = m.token;
    if (spec.safe_value === 'hold' || spec.type === 'serial_line') { this.clearMotion(spec); return; }
    const safe = spec.safe_value;
    try {
      const driver = spec.type === 'servo' ? this.driverFor(spec) : undefined;
      const way = driver ? servoStop(spec, category, driver.release !== undefined, this.channelsOf(spec).every((c) => !c.uncertain && c.value !== undefined)) : undefined;
      if (way === 'leave') return;
      if (way === 'release') { await this.releaseServo(spec, driver as GuardedDriver); return; }
      if ((category === 1 || way === 'ramp') && spec.max_rate !== undefined && typeof safe === 'number') {
        try {
          await this.rampToSafe(spec, m, token, safe);
        } catch {
          // A ramp step failed: fall through to the cut, which tries every channel.
        }
      }
      // The cut: every channel to its safe value, each tried even when another fails.
      const errors: unknown[] = [];
      for (const state of this.channelsOf(spec)) {
        if (m.token !== token) return;
        const cur = state.commanded ?? state.value;
        if (!state.uncertain && cur !== undefined && numeric(cur) === numeric(safe)) continue;
        try {
          await this.writeChecked(state, safe, { safe: true });
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length > 0) {
        const error = errors[0] instanceof LlmosError ? errors[0] : new LlmosError('ERR_DRIVER', `${spec.name}: stop failed: ${String(errors[0])}`);
        this.options.emit('stopFailed', { actuator: spec.name, error });
        throw error;
      }
    } finally {
      if (m.token === token) this.clearMotion(spec);
    }
    void reason;
  }

  /** A servo's category-0 stop: no more pulses; where it stands is unknown from now on. */
  private async releaseServo(spec: ActuatorSpec, driver: GuardedDriver): Promise<void> {
    const state = this.channelOf(spec, undefined);
    const cur = state.commanded ?? state.value;
    // Resting at its safe angle (or already released): nothing to cut.
    if (!state.uncertain && (cur === undefined || numeric(cur) === numeric(spec.safe_value as number))) return;
    await (driver.release as NonNullable<Driver['release']>)({ actuator: spec });
  }

  /** Category 1: decelerate every channel at max_rate to the safe value; returns if superseded. */
  private async rampToSafe(spec: ActuatorSpec, m: MotionState, token: number, safe: number): Promise<void> {
    const rate = spec.max_rate as number;
    for (;;) {
      if (m.token !== token) return; // a newer stop or command took over
      const now = this.clock.now();
      let done = true;
      for (const state of this.channelsOf(spec)) {
        if (state.uncertain) continue; // unknown position: the cut writes it
        const cur = numeric(state.commanded ?? state.value);
        if (cur === undefined || Math.abs(cur - safe) <= EPS) continue;
        // A controlled stop decelerates at max_rate, never faster, so it may wait a tick first.
        const step = Math.floor(rate * this.stepSeconds(state, now) * 1e4) / 1e4;
        if (step <= EPS) { done = false; continue; }
        const next = Math.abs(safe - cur) <= step ? safe : Number((cur + Math.sign(safe - cur) * step).toFixed(4));
        // Between two channels' writes a newer stop may have taken over: it owns the outputs now.
        if (m.token !== token) return;
        await this.writeChecked(state, next, { safe: true });
        if (Math.abs(next - safe) > EPS) done = false;
      }
      if (done) return;
      await this.clock.sleep(this.options.rampTickMs);
    }
  }

  /** Every actuator to its safe value; errors are collected, never allowed to stop the others. */
  async safeAll(reason: string, category?: 0 | 1): Promise<LlmosError[]> {
    const results = await Promise.allSettled([...this.profile.actuators.values()].map((spec) => this.stop(spec, reason, category ?? spec.stop_category)));
    return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason instanceof LlmosError ? r.reason : new LlmosError('ERR_DRIVER', String(r.reason))));
  }

  deadmanMsOf(spec: ActuatorSpec): number { return this.timers.deadmanMsOf(spec); }

  /** Milliseconds this actuator has been away from its safe value (0 when at rest). */
  runningFor(spec: ActuatorSpec): number { return this.timers.runningFor(spec); }

  /** Arms the deadman for an open-ended motion: it stops unless its owner refreshes it. */
  armDeadman(spec: ActuatorSpec): void {
    this.timers.refresh(spec);
  }

  /** A command that ended (or never started) motion releases its deadman and run-time timers. */
  settle(spec: ActuatorSpec): void {
    if (!this.isActive(spec.name)) this.clearMotion(spec);
  }

  /**
   * Seconds a ramp step may cover: the time since the channel's last write, but at most two
   * ticks, so a command after a long idle still ramps instead of jumping.
   */
  private stepSeconds(state: ChannelState, now: number): number {
    const tick = this.options.rampTickMs / 1000;
    if (state.lastWriteAt === undefined) return tick;
    return Math.min(Math.max(0, (now - state.lastWriteAt) / 1000), 2 * tick);
  }

  private clearMotion(spec: ActuatorSpec): void { this.timers.clear(spec); }

  private assertLive(spec: ActuatorSpec, token: number, signal: AbortSignal | undefined): void {
    if (this.latch.refusal) throw this.latch.refusal;
    if (signal?.aborted) {
      const r: unknown = signal.reason;
      throw r instanceof LlmosError ? r : new LlmosError('ERR_ABORTED', `${spec.name}: command aborted`);
    }
    if (this.motionOf(spec).token !== token) throw new LlmosError('ERR_ABORTED', `${spec.name}: command superseded by a newer one`);
  }

  /**
   * Hands one write to the channel's guarded driver (which checks latch, range and rate). A
   * command superseded (by a stop, the deadman or a newer command) between two of its writes,
   * e.g. between a drive base's two wheels, must not write again: the newer one owns the
   * outputs, and a late write would set a stopped wheel turning. Stops (`safe`) always write.
   */
  private async writeChecked(state: ChannelState, value: number | boolean, opts: { safe: boolean; token?: number }): Promise<void> {
    const { spec } = state;
    const superseded = (): LlmosError => new LlmosError('ERR_ABORTED', `${state.key}: command superseded by a newer one`);
    const token = opts.token;
    if (token !== undefined && this.motionOf(spec).token !== token) throw superseded();
    const target: WriteTarget = state.channel ? { actuator: spec, channel: state.channel } : { actuator: spec };
    const driver = this.driverFor(spec);
    if (opts.safe) { await driver.writeSafe(target, value); return; }
    await driver.write(target, value, token === undefined ? undefined : () => { if (this.motionOf(spec).token !== token) throw superseded(); });
  }

  private channelOf(spec: ActuatorSpec, channel: Side | undefined): ChannelState { return this.channels.of(spec, channel); }

  private channelsOf(spec: ActuatorSpec): ChannelState[] { return this.channels.all(spec); }

  private motionOf(spec: ActuatorSpec): MotionState { return this.timers.of(spec); }

  /** Writes a serial line through its guarded driver (the latch applies). */
  async sendLine(spec: ActuatorSpec, line: string, awaitReply: boolean, timeoutMs: number | undefined): Promise<string | undefined> {
    if (this.latch.refusal) throw this.latch.refusal;
    return this.driverFor(spec).request(spec, line, { awaitReply, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  async closeDrivers(): Promise<void> {
    for (const spec of this.profile.actuators.values()) this.clearMotion(spec);
    await Promise.allSettled([...this.guarded.values()].map((d) => d.close()));
  }
}
