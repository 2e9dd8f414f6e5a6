/** servo_move: move a servo to an angle, optionally at a given speed. */
import { LlmosError } from '../../lib/errors.js';
import { actuatorArg, actuatorsOf, admit, bounded, clampTo, describeActuators, finiteArg, levelMotion, numArg, roundTo, unionRange } from './common.js';

/** A jog step at scale 1, in degrees (still capped by what max_rate does in a step). */
const JOG_STEP_DEG = 5;
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'servo_move', kind: 'actuation', motion: false,
  summary: 'Move a servo to an angle, optionally at a speed in degrees per second.',
  schema: {
    type: 'object', required: ['actuator', 'angle'], additionalProperties: false,
    properties: { actuator: { type: 'string' }, angle: { type: 'number' }, speed_dps: { type: 'number', exclusiveMinimum: 0 } },
  },
  units: { angle: { kind: 'angle', fromSi: 1 }, speed_dps: { kind: 'angular_speed', fromSi: 1 } },
  concepts: ['MOVE', 'SET'],
  requires: { actuators: ['servo'] },
  define(profile) {
    const servos = actuatorsOf(profile, 'servo');
    const [lo, hi] = unionRange(servos);
    const maxRate = Math.max(...servos.map((s) => s.max_rate ?? 360));
    return {
      description: `Move a servo to an angle in degrees, optionally at speed_dps degrees per second. Servos: ${describeActuators(profile, 'servo')}.`,
      bounds: { actuator: { enum: servos.map((a) => a.name) }, angle: { minimum: lo, maximum: hi }, speed_dps: { maximum: maxRate } },
      keywords: ['servo', 'angle', 'position', 'raise', 'lower', 'lift', 'open', 'close', 'grab', 'release', 'wave', 'point', 'degrees', 'arm', 'gripper', 'claw', ...servos.map((a) => a.name)],
    };
  },
  async handler(args, env) {
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
  intent(args, current) {
    return levelMotion(numArg(args, 'angle'), current);
  },
  nominalMs(args, spec) {
    // A full sweep at the rate it may move.
    const rate = Math.min(finiteArg(args, 'speed_dps') ?? Infinity, spec?.max_rate ?? Infinity);
    return Number.isFinite(rate) && rate > 0 ? Math.min(180 / rate, 3600) * 1000 : 0;
  },
  jog(spec, { dir, current, scale, stepMs }) {
    const from = current ?? (typeof spec.safe_value === 'number' ? spec.safe_value : (spec.range[0] + spec.range[1]) / 2);
    const step = Math.min(JOG_STEP_DEG * scale, spec.max_rate !== undefined ? spec.max_rate * (stepMs / 1000) : Infinity);
    return { actuator: spec.name, angle: roundTo(clampTo(from + Math.sign(dir) * step, spec.range), 2) };
  },
};
