/** digital_write: switch a digital output on or off. */
import { LlmosError } from '../../lib/errors.js';
import { actuatorArg, actuatorsOf, admit, describeActuators, levelMotion } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'digital_write', kind: 'actuation', motion: false,
  summary: 'Switch a digital output on or off.',
  // 1/0 are accepted for traces; the LLM is offered true/false only.
  schema: {
    type: 'object', required: ['actuator', 'value'], additionalProperties: false,
    properties: { actuator: { type: 'string' }, value: { type: ['boolean', 'integer'] } },
  },
  units: {},
  concepts: ['SWITCH', 'SET'],
  requires: { actuators: ['digital_out'] },
  define(profile) {
    const digital = actuatorsOf(profile, 'digital_out').map((a) => a.name);
    return {
      description: `Switch a digital output on (true) or off (false). Outputs: ${describeActuators(profile, 'digital_out')}.`,
      bounds: { actuator: { enum: digital }, value: { type: 'boolean' } },
      keywords: ['on', 'off', 'switch', 'light', 'led', 'blink', 'flash', 'enable', 'disable', 'output', 'lamp', ...digital],
    };
  },
  async handler(args, env) {
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
  intent(args, current) {
    return levelMotion(args['value'] === true || args['value'] === 1 ? 1 : 0, current);
  },
  jog(spec, { dir }) {
    return { actuator: spec.name, value: dir > 0 };
  },
};
