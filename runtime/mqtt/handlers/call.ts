/**
 * cmd/call: one tool call by an operator, through the gate (schema, bounds, hooks, e-stop, audit).
 * A device that limits remote goals (mqtt.allow_goals) takes remote calls only for the tools
 * mqtt.allow_calls lists; a call past its v5 expiry when its turn comes is not made.
 */
import { LlmosError, toLlmosError } from '../../../lib/errors.js';
import type { RuntimeConfig } from '../../config.js';
import type { CommandHandler } from './types.js';

/** Why a remote call of `tool` is refused on this device, or undefined when it may be made. */
export function remoteCallRefusal(mqtt: RuntimeConfig['mqtt'], tool: string): string | undefined {
  if (mqtt.allow_calls !== undefined) {
    return mqtt.allow_calls.includes(tool) ? undefined : `tool "${tool}" is not on this device's list for remote calls (mqtt.allow_calls: ${mqtt.allow_calls.join(', ') || 'none'})`;
  }
  return mqtt.allow_goals !== undefined ? `this device limits remote goals (mqtt.allow_goals), so remote tool calls need mqtt.allow_calls naming "${tool}"` : undefined;
}

export const call: CommandHandler = {
  schema: 'mqttCall',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { tool: string; args?: Record<string, unknown> };
    const refusal = remoteCallRefusal(ctx.os.config.mqtt, p.tool);
    if (refusal) { ctx.fail(new LlmosError('ERR_MQTT', refusal)); return; }
    try {
      const r = await ctx.os.callTool({ name: p.tool, args: { ...(p.args ?? {}) } }, { source: 'operator', ...(ctx.expiresAt !== undefined ? { notAfter: ctx.expiresAt } : {}) });
      ctx.reply({ tool: p.tool, ok: true, value: r.value ?? null, adjusted: r.adjusted });
    } catch (e) {
      ctx.fail(toLlmosError(e));
    }
  },
};
