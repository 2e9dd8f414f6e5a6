/**
 * Loads a board profile (YAML, schemas/board.schema.json), fills in safe defaults and checks the
 * things a schema cannot: drivers that exist, safe values inside their ranges, interlocks that
 * name real actuators, allow-list patterns that compile. A profile that fails any of these is
 * refused as a whole with ERR_BOARD_PROFILE: half a robot description is worse than none.
 */
import { resolve } from 'node:path';
import { cachedDocument } from '../lib/doc-cache.js';
import { LlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { assertValid } from '../lib/validate.js';
import { readYamlFile } from '../lib/yaml-file.js';
import { actuatorPinUses, findDoubleUse, sensorPinUses } from './pin-map.js';
import { parseReflexes, type RawReflex } from './reflexes.js';
import type {
  ActuatorSpec, ActuatorType, BoardProfile, ChannelSpec, DriverInstanceSpec, InterlockSpec, SafeValue, SensorSpec,
} from '../drivers/types.js';

/** The shipped simulated board; `--board sim` selects it. */
export const SIM_BOARD_PATH = packagePath('boards', 'sim.yaml');

const MOTION_TYPES: ReadonlySet<ActuatorType> = new Set(['differential_drive', 'motor']);

export function isMotion(spec: ActuatorSpec): boolean {
  return MOTION_TYPES.has(spec.type);
}

const DEFAULT_RANGES: Record<ActuatorType, [number, number]> = {
  differential_drive: [-1, 1],
  motor: [-1, 1],
  servo: [0, 180],
  pwm: [0, 1],
  digital_out: [0, 1],
  serial_line: [0, 0],
};

interface RawActuator {
  type: ActuatorType;
  driver?: string;
  description?: string;
  pin?: number | string;
  dir_pin?: number | string;
  cdir_pin?: number | string;
  invert?: boolean;
  pwm_range?: [number, number];
  pwm?: { chip?: number; channel: number };
  active_low?: boolean;
  line?: string;
  expect?: string;
  left?: ChannelSpec;
  right?: ChannelSpec;
  range?: [number, number];
  on_range?: 'reject' | 'clamp';
  max_rate?: number;
  on_rate?: 'ramp' | 'reject';
  max_run_ms?: number;
  deadman_ms?: number;
  max_commands_per_s?: number;
  safe_value?: number | boolean | string;
  stop_category?: 0 | 1;
  calibration?: { max_speed_mps: number; max_turn_dps: number; track_width_m?: number };
  port?: string;
  baud_rate?: number;
  delimiter?: string;
  allow?: string[];
  reply_timeout_ms?: number;
}

interface RawSensor {
  type: SensorSpec['type'];
  driver?: string;
  description?: string;
  pin?: number | string;
  active_low?: boolean;
  unit?: string;
  range?: [number, number];
  role?: SensorSpec['role'];
  query?: SensorSpec['query'];
}

interface RawProfile {
  name: string;
  description?: string;
  drivers?: Record<string, { type: DriverInstanceSpec['type']; [k: string]: unknown }>;
  actuators: Record<string, RawActuator>;
  sensors?: Record<string, RawSensor>;
  interlocks?: Array<{ id?: string; when: InterlockSpec['when']; forbid: string[]; reason?: string }>;
  estop?: { driver?: string; pin: number | string; active_low?: boolean; debounce_ms?: number };
  reflexes?: RawReflex[];
}

export function resolveBoardPath(board: string, baseDir: string = process.cwd()): string {
  return board === 'sim' ? SIM_BOARD_PATH : resolve(baseDir, board);
}

/**
 * Loads and checks a board profile. With a cache directory, the parsed and schema-checked
 * document is reused while the file is unchanged; the cross-checks below always run.
 */
export function loadBoardProfile(board: string, options: { baseDir?: string; cacheDir?: string } = {}): BoardProfile {
  const path = resolveBoardPath(board, options.baseDir);
  const raw = cachedDocument(path, options.cacheDir, 'board-1', () => {
    const doc = readYamlFile(path, 'ERR_BOARD_PROFILE');
    assertValid('board', doc, path, 'ERR_BOARD_PROFILE');
    return doc;
  });
  return parseBoardProfile(raw, path, { validated: true });
}

/**
 * Full scales per second for a reversible motor whose profile declares no max_rate: from full
 * speed to rest in 0.25 s, a full reversal in 0.5 s (4 units/s on a -1..1 motor).
 */
export const DEFAULT_MOTOR_RATE = 4;

export function parseBoardProfile(raw: unknown, source: string, options: { validated?: boolean } = {}): BoardProfile {
  if (!options.validated) assertValid('board', raw, source, 'ERR_BOARD_PROFILE');
  const doc = raw as RawProfile;
  const fail = (field: string, message: string): never => {
    throw new LlmosError('ERR_BOARD_PROFILE', `${source}: ${field}: ${message}`);
  };

  const drivers = new Map<string, DriverInstanceSpec>();
  for (const [name, d] of Object.entries(doc.drivers ?? {})) {
    const { type, ...options } = d;
    drivers.set(name, { name, type, options });
  }
  if (drivers.size === 0) drivers.set('sim', { name: 'sim', type: 'sim', options: {} });
  const defaultDriver = drivers.size === 1 ? [...drivers.keys()][0] : undefined;
  const driverOf = (field: string, declared: string | undefined): string => {
    const name = declared ?? defaultDriver;
    if (!name) return fail(`${field}/driver`, `is required when the profile declares several drivers (${[...drivers.keys()].join(', ')})`);
    if (!drivers.has(name)) return fail(`${field}/driver`, `names driver "${name}", which /drivers does not declare`);
    return name;
  };

  const actuators = new Map<string, ActuatorSpec>();
  for (const [name, a] of Object.entries(doc.actuators)) {
    const field = `/actuators/${name}`;
    const range = a.range ?? DEFAULT_RANGES[a.type];
    if (range[0] > range[1]) fail(`${field}/range`, `minimum ${range[0]} is above maximum ${range[1]}`);
    const safe = normalizeSafeValue(a, range, field, fail);
    const channel: ChannelSpec = {};
    for (const k of ['pin', 'dir_pin', 'cdir_pin', 'invert', 'pwm_range', 'pwm', 'active_low', 'line', 'expect'] as const) {
      if (a[k] !== undefined) channel[k] = a[k] as never;
    }
    const spec: ActuatorSpec = {
      name,
      type: a.type,
      driver: driverOf(field, a.driver),
      channel,
      range,
      on_range: a.on_range ?? 'reject',
      on_rate: a.on_rate ?? 'ramp',
      safe_value: safe,
      stop_category: a.stop_category ?? (MOTION_TYPES.has(a.type) ? 1 : 0),
    };
    if (a.description !== undefined) spec.description = a.description;
    if (a.max_rate !== undefined) spec.max_rate = a.max_rate;
    // A motor that can reverse is never flipped from full one way to full the other in one
    // write: without a declared rate it ramps at DEFAULT_MOTOR_RATE.
    else if ((a.type === 'motor' || a.type === 'differential_drive') && range[0] < 0) spec.max_rate = DEFAULT_MOTOR_RATE * (range[1] - range[0]) / 2;
    if (a.max_run_ms !== undefined) spec.max_run_ms = a.max_run_ms;
    if (a.deadman_ms !== undefined) spec.deadman_ms = a.deadman_ms;
    if (a.max_commands_per_s !== undefined) spec.max_commands_per_s = a.max_commands_per_s;
    if (a.type === 'differential_drive') {
      if (!a.calibration) fail(`${field}/calibration`, 'is required for a differential_drive (max_speed_mps, max_turn_dps)');
      spec.calibration = a.calibration as NonNullable<RawActuator['calibration']>;
      spec.left = a.left ?? {};
      spec.right = a.right ?? {};
      if (a.max_run_ms === undefined) spec.max_run_ms = 30000;
    }
    if (a.type === 'motor' && a.max_run_ms === undefined) spec.max_run_ms = 30000;
    if (a.type === 'serial_line') {
      if (!a.allow || a.allow.length === 0) fail(`${field}/allow`, 'is required: list the regular expressions of lines this device may receive');
      for (const [i, pattern] of (a.allow ?? []).entries()) {
        try { new RegExp(pattern); } catch (e) { fail(`${field}/allow/${i}`, `is not a valid regular expression: ${(e as Error).message}`); }
      }
      spec.allow = a.allow as string[];
    }
    if (a.expect !== undefined) {
      try { new RegExp(a.expect); } catch (e) { fail(`${field}/expect`, `is not a valid regular expression: ${(e as Error).message}`); }
    }
    if (a.allow !== undefined && a.type !== 'serial_line') spec.allow = a.allow;
    if (a.port !== undefined) spec.port = a.port;
    if (a.baud_rate !== undefined) spec.baud_rate = a.baud_rate;
    if (a.delimiter !== undefined) spec.delimiter = a.delimiter;
    if (a.reply_timeout_ms !== undefined) spec.reply_timeout_ms = a.reply_timeout_ms;
    actuators.set(name, spec);
  }

  const sensors = new Map<string, SensorSpec>();
  for (const [name, s] of Object.entries(doc.sensors ?? {})) {
    const field = `/sensors/${name}`;
    if (actuators.has(name)) fail(field, `"${name}" is already an actuator; names must be unique`);
    const spec: SensorSpec = { name, type: s.type, driver: driverOf(field, s.driver), channel: s.pin !== undefined ? { pin: s.pin, ...(s.active_low !== undefined ? { active_low: s.active_low } : {}) } : {} };
    if (s.description !== undefined) spec.description = s.description;
    if (s.unit !== undefined) spec.unit = s.unit;
    if (s.range !== undefined) spec.range = s.range;
    if (s.role !== undefined) spec.role = s.role;
    if (s.type === 'serial_query') {
      if (!s.query) fail(`${field}/query`, 'is required for a serial_query sensor');
      const line = actuators.get(s.query?.actuator ?? '');
      if (!line || line.type !== 'serial_line') fail(`${field}/query/actuator`, `must name a serial_line actuator, got "${s.query?.actuator}"`);
      spec.query = s.query as NonNullable<RawSensor['query']>;
    }
    sensors.set(name, spec);
  }

  const interlocks: InterlockSpec[] = (doc.interlocks ?? []).map((il, i) => {
    const field = `/interlocks/${i}`;
    if (!actuators.has(il.when.actuator)) fail(`${field}/when/actuator`, `names "${il.when.actuator}", which is not a declared actuator`);
    for (const [j, f] of il.forbid.entries()) {
      if (!actuators.has(f)) fail(`${field}/forbid/${j}`, `names "${f}", which is not a declared actuator`);
    }
    const conditions = ['above', 'below', 'equals', 'active'].filter((k) => k in il.when);
    if (conditions.length === 0) fail(`${field}/when`, 'needs one of above, below, equals or active');
    return { id: il.id ?? `interlock-${i}`, when: il.when, forbid: il.forbid, reason: il.reason ?? `interlock ${il.id ?? i}` };
  });

  const profile: BoardProfile = { name: doc.name, source, drivers, actuators, sensors, interlocks, reflexes: parseReflexes(doc.reflexes ?? [], actuators, sensors, fail) };
  if (doc.description !== undefined) profile.description = doc.description;
  if (doc.estop) {
    profile.estop = { driver: driverOf('/estop', doc.estop.driver), pin: doc.estop.pin };
    if (doc.estop.active_low !== undefined) profile.estop.active_low = doc.estop.active_low;
    if (doc.estop.debounce_ms !== undefined) profile.estop.debounce_ms = doc.estop.debounce_ms;
  }
  // One use per physical pin, however it is spelled and whichever driver instance names it.
  const uses = [...[...actuators.values()].flatMap(actuatorPinUses), ...[...sensors.values()].flatMap(sensorPinUses)];
  if (profile.estop) uses.push({ device: 'the e-stop', field: '/estop/pin', driver: profile.estop.driver, pin: profile.estop.pin });
  const double = findDoubleUse(uses, drivers);
  if (double) fail(double[0], double[1]);
  return profile;
}

function normalizeSafeValue(
  a: RawActuator, range: [number, number], field: string, fail: (f: string, m: string) => never,
): SafeValue {
  const v = a.safe_value;
  switch (a.type) {
    case 'digital_out':
      if (v === undefined) return false;
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      return fail(`${field}/safe_value`, 'must be true or false for a digital_out');
    case 'serial_line':
      return 'hold';
    case 'servo':
      if (v === 'hold') return 'hold';
      if (v === undefined) return fail(`${field}/safe_value`, 'is required for a servo (an angle, or "hold" to stop commanding it)');
      break;
    default:
      if (v === undefined) {
        if (range[0] <= 0 && range[1] >= 0) return 0;
        return fail(`${field}/safe_value`, `is required: 0 is outside the range [${range[0]}, ${range[1]}]`);
      }
  }
  if (typeof v !== 'number') return fail(`${field}/safe_value`, `must be a number, got ${JSON.stringify(v)}`);
  if (v < range[0] || v > range[1]) return fail(`${field}/safe_value`, `${v} is outside the range [${range[0]}, ${range[1]}]`);
  return v;
}
