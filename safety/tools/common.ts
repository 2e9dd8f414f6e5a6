/**
 * What the tool handlers share: finding the actuator an argument names, the declared range
 * (reject, or clamp where the profile says so), interlocks and command rate, run-time limits,
 * the trapezoidal base motion, sensor reads, and the catalog's board descriptions.
 */
import { LlmosError } from '../../lib/errors.js';
import type { ActuatorSpec, ActuatorType, BoardProfile, SensorReading, SensorSpec } from '../../drivers/types.js';
import type { FactStore } from '../../lib/facts.js';
import { checkInterlocks } from '../interlocks.js';
import type { SystemToolsOptions } from '../system-tools.js';
import type { Args, HandlerEnv } from './types.js';

export const DEFAULT_DRIVE_SPEED = 0.6;
export const DEFAULT_TURN_SPEED = 0.5;

export function actuatorArg(env: HandlerEnv, args: Args, types: ReadonlyArray<ActuatorSpec['type']>, tool: string): ActuatorSpec {
  let name = args['actuator'];
  if (name === undefined) {
    const candidates = [...env.profile.actuators.values()].filter((a) => types.includes(a.type));
    if (candidates.length === 1) name = (candidates[0] as ActuatorSpec).name;
  }
  const spec = typeof name === 'string' ? env.profile.actuators.get(name) : undefined;
  if (!spec || !types.includes(spec.type)) {
    const valid = [...env.profile.actuators.values()].filter((a) => types.includes(a.type)).map((a) => a.name);
    throw new LlmosError('ERR_ACTUATOR_UNKNOWN', `${tool}: unknown actuator ${JSON.stringify(name)}; this board has ${valid.length ? valid.join(', ') : `no ${types.join('/')} actuator`}`);
  }
  return spec;
}

/** Declared range: reject by default, clamp only where the profile says so. */
export function bounded(spec: ActuatorSpec, field: string, value: number, env: HandlerEnv, range: [number, number] = spec.range): number {
  const [lo, hi] = range;
  if (value >= lo && value <= hi) return value;
  if (spec.on_range === 'clamp') {
    const clamped = Math.min(hi, Math.max(lo, value));
    env.adjust(`${spec.name}.${field} clamped from ${value} to ${clamped}`);
    return clamped;
  }
  throw new LlmosError('ERR_SAFETY_RANGE', `${spec.name}: ${field} ${value} is outside the declared range [${lo}, ${hi}]`);
}

function safeLevel(spec: ActuatorSpec): number {
  const s = spec.safe_value;
  return typeof s === 'number' ? s : s === true ? 1 : 0;
}

export function admit(env: HandlerEnv, spec: ActuatorSpec, level: number): void {
  env.limiter.admit(spec.name, spec.max_commands_per_s, env.clock.now());
  checkInterlocks(env.profile, env.bank, spec.name, { level, active: Math.abs(level - safeLevel(spec)) > 1e-9 });
}

export function checkRunTime(spec: ActuatorSpec, ms: number): void {
  if (spec.max_run_ms !== undefined && ms > spec.max_run_ms) {
    throw new LlmosError('ERR_SAFETY_RUNTIME', `${spec.name}: the motion would run ${Math.round(ms)} ms, over its max_run_ms of ${spec.max_run_ms}`);
  }
}

/** Trapezoidal profile: ramp up at max_rate, hold, ramp down, covering `units` (m or deg). */
function motionPlan(spec: ActuatorSpec, units: number, command: number, perUnit: number): { v: number; rampMs: number; holdMs: number; totalMs: number } {
  const accel = spec.max_rate ?? Number.POSITIVE_INFINITY;
  let v = command;
  let tRamp = Number.isFinite(accel) ? v / accel : 0;
  const rampUnits = v * perUnit * tRamp; // up and down together
  let hold: number;
  if (rampUnits <= units) {
    hold = (units - rampUnits) / (v * perUnit);
  } else {
    v = Math.sqrt((units * accel) / perUnit);
    tRamp = v / accel;
    hold = 0;
  }
  return { v, rampMs: tRamp * 1000, holdMs: hold * 1000, totalMs: (2 * tRamp + hold) * 1000 };
}

async function runBase(env: HandlerEnv, spec: ActuatorSpec, left: number, right: number, holdMs: number): Promise<void> {
  await env.bank.command(spec, {
    owner: env.owner, abort: env, rate: spec.max_rate, holdMs,
    targets: [{ channel: 'left', value: left }, { channel: 'right', value: right }],
    rest: [{ channel: 'left', value: 0 }, { channel: 'right', value: 0 }],
  });
}

/** drive and turn at full speed scale: the amount at the commanded speed (0.5 when unsaid). */
export function baseNominalMs(amount: number | undefined, speedArg: number | undefined, perUnit: number | undefined): number {
  if (perUnit === undefined) return 0;
  const perSecond = (speedArg ?? 0.5) * perUnit;
  return perSecond > 0 ? (Math.abs(amount ?? 0) / perSecond) * 1000 : 0;
}

/** drive and turn: a trapezoidal motion of the base over `amount` (metres or degrees). */
export async function baseMotion(
  env: HandlerEnv, args: Args, tool: 'drive' | 'turn', field: 'distance_m' | 'degrees', defaultSpeed: number,
  perUnit: (c: NonNullable<ActuatorSpec['calibration']>) => number, wheels: (dir: number, v: number) => [number, number],
): Promise<unknown> {
  const spec = actuatorArg(env, args, ['differential_drive'], tool);
  const amount = args[field] as number;
  if (!Number.isFinite(amount)) throw new LlmosError('ERR_TOOL_ARGS', `${tool}: ${field} must be a finite number`);
  const speed = bounded(spec, 'speed', speedArg(args, defaultSpeed, env), env);
  if (Math.abs(amount) < 1e-6) return { actuator: spec.name, [field]: 0 };
  const plan = motionPlan(spec, Math.abs(amount), speed, perUnit(spec.calibration as NonNullable<ActuatorSpec['calibration']>));
  checkRunTime(spec, plan.totalMs);
  const [left, right] = wheels(Math.sign(amount), plan.v);
  admit(env, spec, Math.abs(left) >= Math.abs(right) ? left : right);
  await runBase(env, spec, left, right, plan.holdMs);
  return { actuator: spec.name, [field]: amount, speed: plan.v, duration_ms: Math.round(plan.totalMs) };
}

function speedArg(args: Args, fallback: number, env: HandlerEnv): number {
  const s = args['speed'] === undefined ? fallback : (args['speed'] as number);
  if (s <= 0 || s > 1) throw new LlmosError('ERR_SAFETY_RANGE', `speed ${s} must be in (0, 1]`);
  return s * env.speedScale;
}

/** Reads a sensor through its driver (a serial_query sensor: its line, under the latch). */
export async function readSensor(env: Pick<HandlerEnv, 'bank' | 'profile'>, spec: SensorSpec): Promise<SensorReading> {
  if (spec.type === 'serial_query' && spec.query) {
    const line = env.profile.actuators.get(spec.query.actuator) as ActuatorSpec;
    const reply = await env.bank.sendLine(line, spec.query.line, true, line.reply_timeout_ms);
    const m = spec.query.pattern ? new RegExp(spec.query.pattern).exec(reply ?? '') : null;
    const raw = m ? (m[1] ?? m[0]) : (reply ?? '');
    const n = Number(raw);
    const reading: SensorReading = { value: Number.isFinite(n) && raw.trim() !== '' ? n : raw, ...(spec.unit ? { unit: spec.unit } : {}) };
    env.bank.noteRead(spec.name, reading);
    return reading;
  }
  const driver = env.bank.driverFor(spec);
  try {
    const reading = await driver.read(spec);
    // Every reading (a sensor_read call, a reflex's poll) reaches the run's timeline.
    env.bank.noteRead(spec.name, spec.unit && reading.unit === undefined ? { ...reading, unit: spec.unit } : reading);
    return reading;
  } catch (e) {
    throw e instanceof LlmosError ? e : new LlmosError('ERR_DRIVER', `${spec.name}: read failed: ${(e as Error).message}`, undefined, { cause: e });
  }
}


export function requireFacts(env: HandlerEnv): FactStore {
  if (!env.facts) throw new LlmosError('ERR_TOOL_DISABLED', 'the facts store is off (tools.facts in the config)');
  return env.facts;
}

export function requireSystem(env: HandlerEnv): SystemToolsOptions {
  if (!env.system) throw new LlmosError('ERR_TOOL_DISABLED', 'system tools are disabled (tools.system.enabled: false)');
  return env.system;
}

/** A numeric argument, if it is a finite number. */
export function finiteArg(args: Args, key: string): number | undefined {
  const v = args[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A numeric argument for judging a motion: 0 unless it is a finite number. */
export const numArg = (args: Args, key: string): number => finiteArg(args, key) ?? 0;
export const signOf = (n: number): -1 | 0 | 1 => (n > 1e-9 ? 1 : n < -1e-9 ? -1 : 0);

/** A level-setting tool's motion: toward the new level from the current one (unknown: it moves). */
export function levelMotion(target: number, current: () => number | undefined): { moves: boolean; direction: -1 | 0 | 1; speed: number } {
  const now = current();
  const d = now === undefined ? 1 : signOf(target - now);
  return { moves: d !== 0, direction: d, speed: 0 };
}

/** A number rounded to `digits` decimals (jog steps read cleanly in logs and taught traces). */
export const roundTo = (v: number, digits = 4): number => Number(v.toFixed(digits));
export const clampTo = (v: number, [lo, hi]: readonly [number, number]): number => Math.min(hi, Math.max(lo, v));
/** A drive base without calibration is jogged as if it made 0.5 m/s and 90 deg/s. */
export const JOG_CALIBRATION = { max_speed_mps: 0.5, max_turn_dps: 90 } as const;

/** The board's actuators of one type, in profile order. */
export function actuatorsOf(profile: BoardProfile, type: ActuatorType): ActuatorSpec[] {
  return [...profile.actuators.values()].filter((a) => a.type === type);
}

/** "name [lo..hi]: description; ..." for a tool's description. */
export function describeActuators(profile: BoardProfile, type: ActuatorType): string {
  return actuatorsOf(profile, type)
    .map((a) => `${a.name} [${a.range[0]}..${a.range[1]}]${a.description ? `: ${a.description}` : ''}`).join('; ');
}

/** The smallest range holding every actuator's declared range. */
export function unionRange(specs: ActuatorSpec[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of specs) { lo = Math.min(lo, s.range[0]); hi = Math.max(hi, s.range[1]); }
  return [lo, hi];
}
