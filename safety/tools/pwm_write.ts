/** pwm_write: set a PWM output's duty cycle. */
import { actuatorArg, actuatorsOf, admit, bounded, describeActuators, unionRange } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'pwm_write', kind: 'actuation', motion: false,
  summary: "Set a PWM output's duty cycle.",
  schema: {
    type: 'object', required: ['actuator', 'duty'], additionalProperties: false,
    properties: { actuator: { type: 'string' }, duty: { type: 'number' } },
  },
  units: { duty: { kind: 'fraction', fromSi: 1 } },
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
};
