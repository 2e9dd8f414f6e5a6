/**
 * Where reflexes act (DESIGN.md invariant 8). The gate asks `admit()` before any command starts:
 * a command a rule forbids given the latest reading (read fresh when there is none from the last
 * period) is refused with ERR_SAFETY_REFLEX before anything moves. While a guarded actuator
 * moves, each rule samples its sensor every period on a timer of the runtime clock, independent
 * of whichever executor started the motion, and stops that motion early enough to come to rest
 * before the limit: in-flight calls on it fail with ERR_SAFETY_REFLEX, the actuator stops with its
 * stop category (or the e-stop latches). A sensor that stops answering stops the motion too.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import type { BoardProfile, ReflexSpec, SensorReading, SensorSpec } from '../drivers/types.js';
import type { ActuatorBank } from './actuators.js';
import { isMotion } from './board-profile.js';
import { concerns, describeCondition, holds, intentOf, stoppingDistance, type Intent } from './reflexes.js';

export interface ReflexEvent {
  /** refused: a command never started; stopped: motion in progress was stopped; estop: the e-stop latched. */
  kind: 'refused' | 'stopped' | 'estop';
  rule: string;
  sensor: string;
  /** null when the sensor did not answer. */
  reading: number | boolean | string | null;
  unit?: string;
  action: ReflexSpec['action'];
  actuators: string[];
  /** The runs whose command was refused or whose motion was stopped. */
  runs: string[];
  code: 'ERR_SAFETY_REFLEX';
  message: string;
}

export interface ReflexEngineOptions {
  profile: BoardProfile;
  bank: ActuatorBank;
  clock: Clock;
  rampTickMs: number;
  read: (sensor: SensorSpec) => Promise<SensorReading>;
  engageEstop: (reason: string) => Promise<void>;
  report: (event: ReflexEvent) => void;
}

interface Tracked {
  actuator: string;
  direction: number;
  /** The speed the command asks for (command units): motion accelerates up to it, not beyond. */
  speed: number;
  run: string;
  abort: (error: LlmosError) => void;
}

interface Moving {
  name: string;
  direction: number;
  /** Forward speed in command units, with what it may gain before the next sample. */
  speed: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : v === true ? 1 : 0);
const sign = (n: number): number => (n > 1e-9 ? 1 : n < -1e-9 ? -1 : 0);

export class ReflexEngine {
  private readonly rules: readonly ReflexSpec[];
  private readonly o: ReflexEngineOptions;
  private readonly loops = new Map<string, { timer: TimerHandle | undefined; reading: boolean }>();
  private readonly latest = new Map<string, { value: SensorReading['value']; at: number }>();
  private readonly pending = new Map<string, Promise<SensorReading>>();
  private readonly flights = new Set<Tracked>();
  private readonly owners = new Map<string, string>();
  /** Actuators a reflex stopped: not judged again until a new command moves them. */
  private readonly halted = new Set<string>();
  private closed = false;

  constructor(options: ReflexEngineOptions) {
    this.o = options;
    this.rules = options.profile.reflexes ?? [];
  }

  /**
   * Refuses (rejects with ERR_SAFETY_REFLEX) a command that a rule forbids now; gives what it will
   * move. Synchronous when no rule concerns the command (most calls pay no sensor read).
   */
  admit(tool: string, args: Record<string, unknown>, run: string, speedScale = 1): Intent | undefined | Promise<Intent | undefined> {
    if (this.rules.length === 0 || this.closed) return undefined;
    const intent = intentOf(tool, args, this.o.profile.actuators, (n) => this.o.bank.level(n), speedScale);
    if (!intent) return undefined;
    const rules = this.rules.filter((rule) => concerns(rule, intent.actuator.name, intent.moves, intent.direction));
    return rules.length === 0 ? intent : this.check(rules, intent, run);
  }

  private async check(rules: readonly ReflexSpec[], intent: Intent, run: string): Promise<Intent> {
    for (const rule of rules) {
      const sensor = this.sensorOf(rule);
      let value: SensorReading['value'];
      try {
        value = await this.reading(rule, sensor);
      } catch (e) {
        throw this.refuse(rule, sensor, intent, null, `${sensor.name} cannot be read (${(e as Error).message})`, run);
      }
      const margin = stoppingDistance(rule, sensor, intent.actuator, intent.speed, this.o.rampTickMs);
      if (holds(rule, value, margin)) {
        const why = `${sensor.name} reads ${fmt(value, sensor.unit)} (${describeCondition(rule, sensor.unit)}${margin > 0 ? ` + ${round(margin)} m to stop at this speed` : ''})`;
        throw this.refuse(rule, sensor, intent, value, why, run);
      }
    }
    return intent;
  }

  /** Registers a call that may move `intent.actuator`; a trip aborts it. Returns the release. */
  track(intent: Intent | undefined, run: string, abort: (error: LlmosError) => void): () => void {
    if (!intent || !intent.moves || !this.rules.some((r) => r.actuators.includes(intent.actuator.name))) return noop;
    const t: Tracked = { actuator: intent.actuator.name, direction: intent.direction, speed: intent.speed, run, abort };
    this.flights.add(t);
    this.owners.set(t.actuator, run);
    this.halted.delete(t.actuator);
    for (const rule of this.rules) if (rule.actuators.includes(t.actuator)) this.ensureLoop(rule);
    return () => {
      this.flights.delete(t);
      // Sampling ends with the motion: no timer outlives it (a virtual clock would jump to it).
      for (const rule of this.rules) if (rule.actuators.includes(t.actuator)) this.stopLoopIfIdle(rule);
    };
  }

  private stopLoopIfIdle(rule: ReflexSpec): void {
    const loop = this.loops.get(rule.id);
    if (!loop || loop.reading || this.moving(rule).length > 0) return;
    this.o.clock.clearTimeout(loop.timer);
    this.loops.delete(rule.id);
  }

  /** A write happened (any source): make sure the rules guarding a moving actuator are sampling. */
  noteWrite(actuator: string): void {
    if (this.rules.length === 0 || this.closed) return;
    for (const rule of this.rules) {
      if (!rule.actuators.includes(actuator)) continue;
      if (this.moving(rule).length > 0) this.ensureLoop(rule);
      else this.stopLoopIfIdle(rule);
    }
  }

  close(): void {
    this.closed = true;
    for (const loop of this.loops.values()) this.o.clock.clearTimeout(loop.timer);
    this.loops.clear();
  }

  private ensureLoop(rule: ReflexSpec): void {
    if (this.closed || this.loops.has(rule.id)) return;
    const loop = { timer: undefined as TimerHandle | undefined, reading: false };
    this.loops.set(rule.id, loop);
    loop.timer = this.o.clock.setTimeout(() => this.tick(rule, loop), rule.period_ms);
  }

  private tick(rule: ReflexSpec, loop: { timer: TimerHandle | undefined; reading: boolean }): void {
    loop.timer = undefined;
    if (this.closed) return;
    const moving = this.moving(rule);
    if (moving.length === 0) { this.loops.delete(rule.id); return; }
    // The next sample is due one period after this one, however long this read takes.
    loop.timer = this.o.clock.setTimeout(() => this.tick(rule, loop), rule.period_ms);
    if (!moving.some((m) => concerns(rule, m.name, true, m.direction)) || loop.reading) return;
    loop.reading = true;
    const sensor = this.sensorOf(rule);
    this.sample(sensor, rule.timeout_ms).then((r) => {
      loop.reading = false;
      this.evaluate(rule, sensor, r.value);
    }, (e: unknown) => {
      loop.reading = false;
      const now = this.moving(rule).filter((m) => concerns(rule, m.name, true, m.direction));
      if (now.length > 0) this.trip(rule, sensor, null, now.map((m) => m.name), `${sensor.name} stopped answering (${(e as Error).message})`);
    });
  }

  private evaluate(rule: ReflexSpec, sensor: SensorSpec, value: SensorReading['value']): void {
    if (this.closed) return;
    const hit: string[] = [];
    let shown = 0;
    for (const m of this.moving(rule)) {
      if (!concerns(rule, m.name, true, m.direction)) continue;
      const spec = this.o.profile.actuators.get(m.name);
      const margin = spec ? stoppingDistance(rule, sensor, spec, m.speed, this.o.rampTickMs) : 0;
      if (holds(rule, value, margin)) { hit.push(m.name); shown = Math.max(shown, margin); }
    }
    if (hit.length > 0) this.trip(rule, sensor, value, hit, `${sensor.name} reads ${fmt(value, sensor.unit)} (${describeCondition(rule, sensor.unit)}${shown > 0 ? ` + ${round(shown)} m to stop in time` : ''})`);
  }

  /** Guarded actuators that move now (motion actuators away from rest, or a command in flight). */
  private moving(rule: ReflexSpec): Moving[] {
    const out: Moving[] = [];
    for (const name of rule.actuators) {
      const spec = this.o.profile.actuators.get(name);
      if (!spec) continue;
      let newest: Tracked | undefined;
      for (const f of this.flights) if (f.actuator === name) newest = f;
      if (!newest && this.halted.has(name)) continue;
      const active = isMotion(spec) && this.o.bank.isActive(name);
      if (!newest && !active) continue;
      let velocity = 0;
      if (spec.type === 'differential_drive') velocity = (num(this.o.bank.channelValue(`${name}.left`)) + num(this.o.bank.channelValue(`${name}.right`))) / 2;
      else if (spec.type === 'motor') velocity = num(this.o.bank.channelValue(name));
      // The newest command owns the outputs: a reversal still decelerating moves the new way.
      const direction = newest ? newest.direction : sign(velocity);
      // Until the next sample it may speed up by one period at max_rate, but not past its command.
      const gain = newest && spec.max_rate !== undefined ? spec.max_rate * rule.period_ms / 1000 : 0;
      const top = newest ? Math.max(Math.abs(velocity), newest.speed) : Math.abs(velocity);
      out.push({ name, direction, speed: Math.min(top, Math.abs(velocity) + gain) });
    }
    return out;
  }

  private trip(rule: ReflexSpec, sensor: SensorSpec, value: SensorReading['value'] | null, actuators: string[], why: string): void {
    const message = `reflex "${rule.id}": ${why}; ${rule.action === 'estop' ? 'e-stop engaged' : `stopping ${actuators.join(', ')}`} (${rule.reason})`;
    const error = new LlmosError('ERR_SAFETY_REFLEX', message, { rule: rule.id, sensor: sensor.name, reading: value });
    const runs = new Set<string>();
    for (const f of [...this.flights]) {
      if (!actuators.includes(f.actuator)) continue;
      runs.add(f.run);
      f.abort(error);
    }
    for (const a of actuators) {
      const owner = this.owners.get(a);
      if (owner) runs.add(owner);
      this.halted.add(a);
    }
    if (rule.action === 'estop') {
      void this.o.engageEstop(message).catch(() => undefined);
    } else {
      for (const name of actuators) {
        const spec = this.o.profile.actuators.get(name);
        if (!spec) continue;
        if (isMotion(spec)) void this.o.bank.stop(spec, message, spec.stop_category).catch(() => undefined);
        // A servo or output mid-ramp halts where it is: a newer command supersedes its ramp.
        else try { this.o.bank.claim(spec, 'reflex'); } catch { /* latched: nothing moves anyway */ }
      }
    }
    this.o.report({
      kind: rule.action === 'estop' ? 'estop' : 'stopped', rule: rule.id, sensor: sensor.name, reading: value,
      ...(sensor.unit ? { unit: sensor.unit } : {}), action: rule.action, actuators, runs: [...runs], code: 'ERR_SAFETY_REFLEX', message,
    });
  }

  private refuse(rule: ReflexSpec, sensor: SensorSpec, intent: Intent, value: SensorReading['value'] | null, why: string, run: string): LlmosError {
    const what = rule.action === 'forbid' && rule.direction !== 'any'
      ? `${rule.direction} motion of ${intent.actuator.name} is refused${intent.actuator.type === 'differential_drive' && rule.direction === 'forward' ? ' (reversing and turning in place are allowed)' : ''}`
      : `motion of ${intent.actuator.name} is refused`;
    const message = `reflex "${rule.id}": ${why}; ${what} (${rule.reason})`;
    this.o.report({
      kind: 'refused', rule: rule.id, sensor: sensor.name, reading: value, ...(sensor.unit ? { unit: sensor.unit } : {}),
      action: rule.action, actuators: [intent.actuator.name], runs: [run], code: 'ERR_SAFETY_REFLEX', message,
    });
    return new LlmosError('ERR_SAFETY_REFLEX', message, { rule: rule.id, sensor: sensor.name, reading: value });
  }

  /** The latest reading if it is at most one period old, else a fresh one. */
  private async reading(rule: ReflexSpec, sensor: SensorSpec): Promise<SensorReading['value']> {
    const last = this.latest.get(sensor.name);
    if (last && this.o.clock.now() - last.at <= rule.period_ms) return last.value;
    return (await this.sample(sensor, rule.timeout_ms)).value;
  }

  /** One read per sensor at a time (rules sharing a sensor share it), bounded by `timeoutMs`. */
  private sample(sensor: SensorSpec, timeoutMs: number): Promise<SensorReading> {
    let p = this.pending.get(sensor.name);
    if (!p) {
      p = this.o.read(sensor).then((r) => {
        this.latest.set(sensor.name, { value: r.value, at: this.o.clock.now() });
        return r;
      }).finally(() => this.pending.delete(sensor.name));
      p.catch(() => undefined); // a read that loses the race below must not go unhandled
      this.pending.set(sensor.name, p);
    }
    const read = p;
    const clock = this.o.clock;
    return new Promise<SensorReading>((resolve, reject) => {
      const timer = clock.setTimeout(() => reject(new LlmosError('ERR_SAFETY_REFLEX', `no answer within ${timeoutMs} ms`)), timeoutMs);
      read.then((r) => { clock.clearTimeout(timer); resolve(r); }, (e: unknown) => { clock.clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
    });
  }

  private sensorOf(rule: ReflexSpec): SensorSpec {
    const s = this.o.profile.sensors.get(rule.sensor);
    if (!s) throw new LlmosError('ERR_INTERNAL', `reflex ${rule.id}: no sensor ${rule.sensor}`);
    return s;
  }
}

function noop(): void { /* nothing tracked */ }

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function fmt(value: SensorReading['value'] | null, unit: string | undefined): string {
  if (value === null) return 'nothing';
  return typeof value === 'number' ? `${round(value)}${unit ? ` ${unit}` : ''}` : JSON.stringify(value);
}
