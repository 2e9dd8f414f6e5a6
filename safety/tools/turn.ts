/** turn: the differential base in place by an angle (a trapezoidal motion). */
import { actuatorsOf, baseMotion, baseNominalMs, DEFAULT_TURN_SPEED, finiteArg, JOG_CALIBRATION, numArg, roundTo, signOf } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'turn', kind: 'actuation', motion: true,
  summary: 'Turn the base in place by degrees (positive = left / counter-clockwise).',
  schema: {
    type: 'object', required: ['degrees'], additionalProperties: false,
    properties: { degrees: { type: 'number' }, speed: { type: 'number', exclusiveMinimum: 0 }, actuator: { type: 'string' } },
  },
  units: { degrees: { kind: 'angle', fromSi: 1 }, speed: { kind: 'fraction', fromSi: 1 } },
  concepts: ['TURN', 'ROBOT'],
  requires: { actuators: ['differential_drive'] },
  define(profile) {
    return {
      description: 'Turn the base in place by degrees (positive = left / counter-clockwise, negative = right / clockwise) at speed 0..1.',
      bounds: { degrees: { minimum: -3600, maximum: 3600 }, speed: { maximum: 1 }, actuator: { enum: actuatorsOf(profile, 'differential_drive').map((a) => a.name) } },
      keywords: ['turn', 'rotate', 'spin', 'left', 'right', 'clockwise', 'degrees', 'pivot', 'heading', 'face'],
    };
  },
  async handler(args, env) {
    // Positive degrees = counter-clockwise: left wheel back, right wheel forward.
    return baseMotion(env, args, 'turn', 'degrees', DEFAULT_TURN_SPEED, (c) => c.max_turn_dps, (dir, v) => [-dir * v, dir * v]);
  },
  intent(args) {
    // In place: no forward component, so a rule on what lies ahead lets it through.
    return { moves: signOf(numArg(args, 'degrees')) !== 0, direction: 0, speed: 0 };
  },
  nominalMs(args, spec) {
    return baseNominalMs(finiteArg(args, 'degrees'), finiteArg(args, 'speed'), spec?.calibration?.max_turn_dps);
  },
  jog(spec, { dir, speed, stepMs }) {
    // Left and right turn in place (positive degrees turn left); one step's worth.
    if (Math.abs(dir) !== 2) return undefined;
    const cal = spec.calibration ?? JOG_CALIBRATION;
    const seconds = stepMs / 1000;
    return { degrees: roundTo((dir < 0 ? 1 : -1) * speed * cal.max_turn_dps * seconds, 1), speed };
  },
};
