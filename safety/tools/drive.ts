/** drive: the differential base straight for a distance (a trapezoidal motion). */
import { actuatorsOf, baseMotion, baseNominalMs, DEFAULT_DRIVE_SPEED, finiteArg, JOG_CALIBRATION, numArg, roundTo, signOf } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'drive', kind: 'actuation', motion: true,
  summary: 'Drive the base straight for a distance (negative = backward) at a fraction of its maximum speed.',
  schema: {
    type: 'object', required: ['distance_m'], additionalProperties: false,
    properties: { distance_m: { type: 'number' }, speed: { type: 'number', exclusiveMinimum: 0 }, actuator: { type: 'string' } },
  },
  units: { distance_m: { kind: 'length', fromSi: 1 }, speed: { kind: 'fraction', fromSi: 1 } },
  concepts: ['MOVE', 'ROBOT'],
  requires: { actuators: ['differential_drive'] },
  define(profile) {
    return {
      description: 'Drive the base straight for distance_m metres (negative = backward) at speed 0..1 of its maximum.',
      bounds: { distance_m: { minimum: -10, maximum: 10 }, speed: { maximum: 1 }, actuator: { enum: actuatorsOf(profile, 'differential_drive').map((a) => a.name) } },
      keywords: ['drive', 'move', 'go', 'forward', 'backward', 'back', 'reverse', 'travel', 'distance', 'meters', 'metres', 'roll', 'base', 'wheels'],
    };
  },
  async handler(args, env) {
    // Both wheels the same way: forward for a positive distance.
    return baseMotion(env, args, 'drive', 'distance_m', DEFAULT_DRIVE_SPEED, (c) => c.max_speed_mps, (dir, v) => [dir * v, dir * v]);
  },
  intent(args, _current, speedScale) {
    const d = signOf(numArg(args, 'distance_m'));
    // Without a speed the handler's default applies, times the gate's speed scale as there.
    const speed = Math.min(1, Math.abs(args['speed'] === undefined ? DEFAULT_DRIVE_SPEED : numArg(args, 'speed'))) * speedScale;
    return { moves: d !== 0, direction: d, speed: d === 0 ? 0 : speed };
  },
  nominalMs(args, spec) {
    return baseNominalMs(finiteArg(args, 'distance_m'), finiteArg(args, 'speed'), spec?.calibration?.max_speed_mps);
  },
  jog(spec, { dir, speed, stepMs }) {
    // Up and down drive (left and right turn): one step's worth.
    if (Math.abs(dir) !== 1) return undefined;
    const cal = spec.calibration ?? JOG_CALIBRATION;
    const seconds = stepMs / 1000;
    return { distance_m: roundTo(dir * speed * cal.max_speed_mps * seconds, 3), speed };
  },
};
