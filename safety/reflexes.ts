/**
 * Reflex rules of a board profile (the `reflexes:` section): what they mean, checked once at load.
 * The engine that samples sensors and stops motion is safety/reflex-engine.ts; this module holds
 * the pure parts it uses: parsing, the condition, which commands a rule concerns, and how far
 * ahead of its limit a rule must trip so the robot comes to rest before it.
 *
 *   reflexes:
 *     - id: keep-distance
 *       sensor: distance        # a declared sensor
 *       below: 0.30             # or above: <n>, or level: true|false for a digital input
 *       action: forbid          # forbid | stop | estop
 *       actuators: [base]       # default: every differential_drive and motor
 *       direction: forward      # forbid only: forward | backward | any
 */
import type { ActuatorSpec, ReflexSpec, SensorSpec } from '../drivers/types.js';
import { toolNamed } from './tools/index.js';

export const DEFAULT_REFLEX_PERIOD_MS = 50;

export interface RawReflex {
  id?: string;
  sensor: string;
  below?: number;
  above?: number;
  level?: boolean;
  action: ReflexSpec['action'];
  actuators?: string[];
  direction?: ReflexSpec['direction'];
  period_ms?: number;
  timeout_ms?: number;
  reason?: string;
}

/** Checks the references and the condition of each rule; `fail` throws ERR_BOARD_PROFILE naming the field. */
export function parseReflexes(
  raw: readonly RawReflex[], actuators: ReadonlyMap<string, ActuatorSpec>, sensors: ReadonlyMap<string, SensorSpec>,
  fail: (field: string, message: string) => never,
): ReflexSpec[] {
  const ids = new Set<string>();
  return raw.map((r, i) => {
    const id = r.id ?? `reflex-${i}`;
    const field = `/reflexes/${i}`;
    const where = `${field} (rule "${id}")`;
    if (ids.has(id)) fail(`${where}/id`, `"${id}" is used by another rule; ids must be unique`);
    ids.add(id);
    const sensor = sensors.get(r.sensor);
    if (!sensor) fail(`${where}/sensor`, `names "${r.sensor}", which /sensors does not declare (${[...sensors.keys()].join(', ') || 'none'})`);
    const conditions = (['below', 'above', 'level'] as const).filter((k) => r[k] !== undefined);
    if (conditions.length !== 1) fail(`${where}`, `needs exactly one condition: below, above or level (has ${conditions.length > 0 ? conditions.join(' and ') : 'none'})`);
    if (r.level !== undefined && sensor?.type === 'analog') fail(`${where}/level`, `sensor "${r.sensor}" is analog: use below or above`);
    if ((r.below !== undefined || r.above !== undefined) && sensor?.type === 'digital') fail(`${where}/${conditions[0]}`, `sensor "${r.sensor}" is digital: use level: true|false`);
    const guarded = r.actuators ?? [...actuators.values()].filter((a) => a.type === 'differential_drive' || a.type === 'motor').map((a) => a.name);
    if (guarded.length === 0) fail(`${where}/actuators`, 'is required: this board has no differential_drive or motor to guard by default; list the actuators the rule guards');
    for (const [j, name] of guarded.entries()) {
      const a = actuators.get(name);
      if (!a) fail(`${where}/actuators/${j}`, `names "${name}", which is not a declared actuator`);
      else if (a.type === 'serial_line') fail(`${where}/actuators/${j}`, `"${name}" is a serial_line: a rule cannot tell which of its lines move anything`);
    }
    if (r.direction !== undefined && r.action !== 'forbid') fail(`${where}/direction`, `applies to action forbid only (this rule's action is ${r.action}, which concerns motion in every direction)`);
    const period = r.period_ms ?? DEFAULT_REFLEX_PERIOD_MS;
    const spec: ReflexSpec = {
      id, sensor: r.sensor, action: r.action, actuators: guarded, direction: r.direction ?? 'any',
      period_ms: period, timeout_ms: r.timeout_ms ?? Math.max(100, 2 * period),
      reason: r.reason ?? `reflex ${id}`,
    };
    if (r.below !== undefined) spec.below = r.below;
    if (r.above !== undefined) spec.above = r.above;
    if (r.level !== undefined) spec.level = r.level;
    return spec;
  });
}

/** What a command asks of one actuator: does it move it, and which way (+1, -1, 0 = neither way). */
export interface Intent {
  actuator: ActuatorSpec;
  moves: boolean;
  direction: -1 | 0 | 1;
  /** Forward speed in command units (a drive base, a motor): for the stopping distance. */
  speed: number;
}

/**
 * The intent of a tool call, from its arguments and the actuator's current level. Undefined for
 * calls that move nothing a rule can judge (sensor reads, waits, serial lines); an actuator the
 * handler will reject anyway is left to the handler's own error.
 */
export function intentOf(
  tool: string, args: Record<string, unknown>, actuators: ReadonlyMap<string, ActuatorSpec>, level: (name: string) => number | undefined,
  speedScale = 1,
): Intent | undefined {
  // The tool's own module says which actuator type it drives and how a call moves it; a tool
  // without an intent (sensor reads, waits, serial lines) moves nothing a rule can judge.
  const t = toolNamed(tool);
  const type = t?.intent && 'actuators' in t.requires ? t.requires.actuators[0] : undefined;
  if (!t?.intent || !type) return undefined;
  let name = args['actuator'];
  if (name === undefined) {
    const candidates = [...actuators.values()].filter((a) => a.type === type);
    if (candidates.length === 1) name = candidates[0]?.name;
  }
  const actuator = typeof name === 'string' ? actuators.get(name) : undefined;
  if (!actuator || actuator.type !== type) return undefined;
  return { actuator, ...t.intent(args, () => level(actuator.name), speedScale) };
}

/** Whether the rule concerns this motion (guarded actuator, and for forbid the direction). */
export function concerns(rule: ReflexSpec, actuator: string, moves: boolean, direction: number): boolean {
  if (!moves || !rule.actuators.includes(actuator)) return false;
  if (rule.action !== 'forbid' || rule.direction === 'any') return true;
  return rule.direction === 'forward' ? direction > 0 : direction < 0;
}

/**
 * Metres a drive base covers after a `below` distance rule sees its limit: up to one sample
 * period at the current speed (plus one ramp tick before the stop's first step), then the
 * controlled ramp-down. Counting the ramp at full speed (not half) keeps a margin for a reading
 * that is one period old. Zero when the rule is not about distance ahead of a drive base.
 */
export function stoppingDistance(rule: ReflexSpec, sensor: SensorSpec, actuator: ActuatorSpec, speedUnits: number, rampTickMs: number): number {
  if (rule.below === undefined || actuator.type !== 'differential_drive' || !actuator.calibration) return 0;
  if (!(sensor.unit === 'm' || sensor.role === 'distance')) return 0;
  const u = Math.min(Math.max(Math.abs(actuator.range[0]), Math.abs(actuator.range[1])), Math.abs(speedUnits));
  const rampS = actuator.stop_category === 1 && actuator.max_rate !== undefined ? u / actuator.max_rate : 0;
  return u * actuator.calibration.max_speed_mps * ((rule.period_ms + rampTickMs) / 1000 + rampS);
}

/** The rule's condition on a reading, with the limit moved out by `margin` (below: up, above: down). */
export function holds(rule: ReflexSpec, value: unknown, margin = 0): boolean {
  if (rule.level !== undefined) return (value === true || value === 1) === rule.level;
  if (typeof value !== 'number' || !Number.isFinite(value)) return true; // not a number: no safe reading
  if (rule.below !== undefined) return value < rule.below + margin;
  if (rule.above !== undefined) return value > rule.above - margin;
  return false;
}

/** "below 0.3 m", "above 8 N", "level true", for messages. */
export function describeCondition(rule: ReflexSpec, unit: string | undefined): string {
  const u = unit ? ` ${unit}` : '';
  if (rule.below !== undefined) return `below ${rule.below}${u}`;
  if (rule.above !== undefined) return `above ${rule.above}${u}`;
  return `level ${String(rule.level)}`;
}
