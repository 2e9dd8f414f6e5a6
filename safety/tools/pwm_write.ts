/** pwm_write: set a PWM output's duty cycle. */
import { actuatorArg, actuatorsOf, admit, bounded, clampTo, describeActuators, levelMotion, numArg, roundTo, unionRange } from './common.js';

/** A jog step at scale 1, in duty. */
const JOG_STEP_DUTY = 0.1;
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'pwm_write', kind: 'actuation', motion: false,
  summary: "Set a PWM output's duty cycle.",
  schema: {
    type: 'object', required: ['actuator', 'duty'], additionalProperties: false,
    properties: { actuator: { type: 'string' }, duty: { type: 'number' } },
  },
  units: { duty: { kind: 'fraction', fromSi: 1 } },
  concepts: ['RUN'],
  requires: { actuators: ['pwm'] },
  define(profile) {
    const pwm = actuatorsOf(profile, 'pwm');
    const [lo, hi] = unionRange(pwm);
    return {
      description: `Set a PWM output's duty cycle. Outputs: ${describeActuators(profile, 'pwm')}.`,
      bounds: { actuator: { enum: pwm.map((a) => a.name) }, duty: { minimum: lo, maximum: hi } },
      keywords: ['duty', 'pwm', 'beep', 'buzz', 'sound', 'tone', 'dim', 'brightness', 'volume', ...pwm.map((a) => a.name)],
    };
  },
  async handler(args, env) {
    const spec = actuatorArg(env, args, ['pwm'], 'pwm_write');
    const duty = bounded(spec, 'duty', args['duty'] as number, env);
    admit(env, spec, duty);
    await env.bank.command(spec, { owner: env.owner, abort: env, targets: [{ channel: undefined, value: duty }], rate: spec.max_rate });
    return { actuator: spec.name, duty };
  },
  intent(args, current) {
    return levelMotion(numArg(args, 'duty'), current);
  },
  jog(spec, { dir, current, scale }) {
    return { actuator: spec.name, duty: roundTo(clampTo((current ?? 0) + Math.sign(dir) * JOG_STEP_DUTY * scale, spec.range), 3) };
  },
};
