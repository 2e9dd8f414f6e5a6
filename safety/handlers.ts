/**
 * One handler per tool, dispatched from one table. A handler receives arguments the gate has
 * already shape-checked, applies the actuator's declared limits (range, rate, run time,
 * interlocks, speed scale) and acts only through the ActuatorBank.
 */
import type { Clock } from '../lib/clock.js';
import type { FactStore } from '../lib/facts.js';
import { LlmosError } from '../lib/errors.js';
import type { ActuatorSpec, BoardProfile, SensorReading, SensorSpec } from '../drivers/types.js';
import type { ActuatorBank } from './actuators.js';
import { checkInterlocks, type CommandRateLimiter } from './interlocks.js';
import { searchTools, type ToolDefinition } from './tools.js';
import { systemBash, systemRead, systemWrite, type SystemToolsOptions } from './system-tools.js';

export interface HandlerEnv {
  profile: BoardProfile;
  bank: ActuatorBank;
  clock: Clock;
  catalog: ReadonlyMap<string, ToolDefinition>;
  limiter: CommandRateLimiter;
  /** Product of the configured and the sentience speed scale, in (0, 1]. */
  speedScale: number;
  owner: string;
  signal: AbortSignal;
  system: SystemToolsOptions | undefined;
  /** L4 memory behind fact_read / fact_write. */
  facts: FactStore | undefined;
  /** Records that an argument was clamped (on_range: clamp). */
  adjust(note: string): void;
  /** Keeps the owner's open-ended motions alive (deadman refresh). */
  refresh(): void;
}

export type Args = Record<string, unknown>;
export type Handler = (args: Args, env: HandlerEnv) => Promise<unknown>;

const DEFAULT_DRIVE_SPEED = 0.6;
const DEFAULT_TURN_SPEED = 0.5;

function actuatorArg(env: HandlerEnv, args: Args, types: ReadonlyArray<ActuatorSpec['type']>, tool: string): ActuatorSpec {
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
function bounded(spec: ActuatorSpec, field: string, value: number, env: HandlerEnv, range: [number, number] = spec.range): number {
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

function admit(env: HandlerEnv, spec: ActuatorSpec, level: number): void {
  env.limiter.admit(spec.name, spec.max_commands_per_s, env.clock.now());
  checkInterlocks(env.profile, env.bank, spec.name, { level, active: Math.abs(level - safeLevel(spec)) > 1e-9 });
}

function checkRunTime(spec: ActuatorSpec, ms: number): void {
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

/** drive and turn: a trapezoidal motion of the base over `amount` (metres or degrees). */
async function baseMotion(
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
    env.bank.noteRead(spec.name, spec.unit && reading.unit === undefined ? { ...reading, unit: spec.unit } : reading);
    return reading;
  } catch (e) {
    throw e instanceof LlmosError ? e : new LlmosError('ERR_DRIVER', `${spec.name}: read failed: ${(e as Error).message}`, undefined, { cause: e });
  }
}

export const handlers: Record<string, Handler> = {
  async digital_write(args, env) {
    const spec = actuatorArg(env, args, ['digital_out'], 'digital_write');
    const raw = args['value'];
    if (raw !== true && raw !== false && raw !== 0 && raw !== 1) {
      throw new LlmosError('ERR_TOOL_ARGS', `digital_write: value must be true/false (or 1/0), got ${JSON.stringify(raw)}`);
    }
    const value = raw === true || raw === 1;
    admit(env, spec, value ? 1 : 0);
    await env.bank.command(spec, { owner: env.owner, abort: env, targets: [{ channel: undefined, value }], rate: undefined });
    return { actuator: spec.name, value };
  },

  async pwm_write(args, env) {
    const spec = actuatorArg(env, args, ['pwm'], 'pwm_write');
    const duty = bounded(spec, 'duty', args['duty'] as number, env);
    admit(env, spec, duty);
    await env.bank.command(spec, { owner: env.owner, abort: env, targets: [{ channel: undefined, value: duty }], rate: spec.max_rate });
    return { actuator: spec.name, duty };
  },

  async servo_move(args, env) {
    const spec = actuatorArg(env, args, ['servo'], 'servo_move');
    const angle = bounded(spec, 'angle', args['angle'] as number, env);
    const requested = args['speed_dps'] as number | undefined;
    if (requested !== undefined && spec.max_rate !== undefined && requested > spec.max_rate) {
      if (spec.on_rate === 'reject') throw new LlmosError('ERR_SAFETY_RATE', `${spec.name}: speed_dps ${requested} is over its max_rate ${spec.max_rate}`);
      env.adjust(`${spec.name}.speed_dps limited from ${requested} to ${spec.max_rate}`);
    }
    const base = Math.min(requested ?? Number.POSITIVE_INFINITY, spec.max_rate ?? Number.POSITIVE_INFINITY);
    const rate = Number.isFinite(base) ? base * env.speedScale : undefined;
    admit(env, spec, angle);
    await env.bank.command(spec, { owner: env.owner, abort: env, targets: [{ channel: undefined, value: angle }], rate });
    return { actuator: spec.name, angle };
  },

  async motor_set(args, env) {
    const spec = actuatorArg(env, args, ['motor'], 'motor_set');
    const speed = bounded(spec, 'speed', args['speed'] as number, env) * env.speedScale;
    const duration = args['duration_ms'] as number | undefined;
    if (duration !== undefined) checkRunTime(spec, duration + env.bank.runningFor(spec));
    admit(env, spec, speed);
    await env.bank.command(spec, {
      owner: env.owner, abort: env, targets: [{ channel: undefined, value: speed }], rate: spec.max_rate,
      ...(duration === undefined ? { openEnded: true } : { holdMs: duration, rest: [{ channel: undefined, value: 0 }] }),
    });
    if (duration === undefined) return { actuator: spec.name, speed, deadman_ms: env.bank.deadmanMsOf(spec) };
    return { actuator: spec.name, speed, duration_ms: duration };
  },

  async drive(args, env) {
    // Both wheels the same way: forward for a positive distance.
    return baseMotion(env, args, 'drive', 'distance_m', DEFAULT_DRIVE_SPEED, (c) => c.max_speed_mps, (dir, v) => [dir * v, dir * v]);
  },

  async turn(args, env) {
    // Positive degrees = counter-clockwise: left wheel back, right wheel forward.
    return baseMotion(env, args, 'turn', 'degrees', DEFAULT_TURN_SPEED, (c) => c.max_turn_dps, (dir, v) => [-dir * v, dir * v]);
  },

  async serial_send(args, env) {
    const spec = actuatorArg(env, args, ['serial_line'], 'serial_send');
    const line = args['line'] as string;
    if (/[\r\n]/.test(line)) throw new LlmosError('ERR_SAFETY_SERIAL_LINE', `${spec.name}: a line may not contain line breaks`);
    const allowed = (spec.allow ?? []).some((p) => new RegExp(p).test(line));
    if (!allowed) {
      throw new LlmosError('ERR_SAFETY_SERIAL_LINE', `${spec.name}: line ${JSON.stringify(line)} is not on the allow-list (${(spec.allow ?? []).join(' | ')})`);
    }
    env.limiter.admit(spec.name, spec.max_commands_per_s, env.clock.now());
    const awaitReply = args['await_reply'] !== false;
    const timeoutMs = (args['timeout_ms'] as number | undefined) ?? spec.reply_timeout_ms;
    const reply = await env.bank.sendLine(spec, line, awaitReply, timeoutMs);
    return { actuator: spec.name, line, ...(reply !== undefined ? { reply } : {}) };
  },

  async sensor_read(args, env) {
    const name = args['sensor'];
    const spec = typeof name === 'string' ? env.profile.sensors.get(name) : undefined;
    if (!spec) {
      throw new LlmosError('ERR_SENSOR_UNKNOWN', `sensor_read: unknown sensor ${JSON.stringify(name)}; this board has ${[...env.profile.sensors.keys()].join(', ') || 'no sensors'}`);
    }
    const reading = await readSensor(env, spec);
    return { sensor: spec.name, ...reading };
  },

  async wait(args, env) {
    const ms = args['ms'] as number;
    const end = env.clock.now() + ms;
    // A wait is an explicit step of the plan: the run is alive, so its motions are refreshed.
    for (;;) {
      env.refresh();
      const left = end - env.clock.now();
      if (left <= 0) break;
      await env.clock.sleep(Math.min(left, 100), env.signal);
    }
    return { waited_ms: ms };
  },

  async search_tools(args, env) {
    const found = searchTools(env.catalog, args['query'] as string, (args['limit'] as number | undefined) ?? 3);
    return { tools: found.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) };
  },

  async fact_read(args, env) {
    const facts = requireFacts(env);
    const key = args['key'] as string | undefined;
    if (key !== undefined) {
      const f = facts.get(key);
      return f ? { key, ...f } : { key, found: false };
    }
    return { facts: facts.list((args['prefix'] as string | undefined) ?? '').slice(0, 100) };
  },

  async fact_write(args, env) {
    const key = args['key'] as string;
    requireFacts(env).set(key, args['value'] as string | number | boolean | null, env.clock.wallNow());
    return { key, stored: args['value'] !== null };
  },

  async Write(args, env) {
    return systemWrite(requireSystem(env), args['file_path'] as string, args['content'] as string);
  },

  async Read(args, env) {
    return { content: await systemRead(requireSystem(env), args['file_path'] as string) };
  },

  async Bash(args, env) {
    const result = await systemBash(requireSystem(env), args['command'] as string, args['timeout'] as number | undefined, env.signal);
    if (result.exit_code !== 0) {
      throw new LlmosError('ERR_STEP_FAILED', `Bash exited with ${result.exit_code}: ${result.stderr.trim().slice(0, 300)}`, { ...result });
    }
    return result;
  },
};

function requireFacts(env: HandlerEnv): FactStore {
  if (!env.facts) throw new LlmosError('ERR_TOOL_DISABLED', 'the facts store is off (tools.facts in the config)');
  return env.facts;
}

function requireSystem(env: HandlerEnv): SystemToolsOptions {
  if (!env.system) throw new LlmosError('ERR_TOOL_DISABLED', 'system tools are disabled (tools.system.enabled: false)');
  return env.system;
}
