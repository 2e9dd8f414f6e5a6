/** serial_send: one allow-listed line to a serial device, optionally awaiting its reply. */
import { LlmosError } from '../../lib/errors.js';
import { actuatorArg, actuatorsOf } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'serial_send', kind: 'actuation', motion: false,
  summary: 'Send one allow-listed line to a serial device, optionally awaiting its reply.',
  schema: {
    type: 'object', required: ['actuator', 'line'], additionalProperties: false,
    properties: {
      actuator: { type: 'string' }, line: { type: 'string', maxLength: 256 },
      await_reply: { type: 'boolean' }, timeout_ms: { type: 'integer', minimum: 1, maximum: 60000 },
    },
  },
  units: { timeout_ms: { kind: 'time', fromSi: 1000 } },
  concepts: ['SEND', 'SERIAL', 'READ'],
  requires: { actuators: ['serial_line'] },
  define(profile) {
    const lines = actuatorsOf(profile, 'serial_line');
    return {
      description: `Send one line to a serial device (only allow-listed lines), optionally awaiting its reply. Devices: ${lines.map((l) => `${l.name} (allowed: ${(l.allow ?? []).join(' | ')})`).join('; ')}.`,
      bounds: { actuator: { enum: lines.map((a) => a.name) } },
      keywords: ['serial', 'uart', 'send', 'command', 'controller', 'ping', 'status', 'line', ...lines.map((a) => a.name)],
    };
  },
  async handler(args, env) {
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
};
