/** cmd/call: one tool call by an operator, through the gate (schema, bounds, hooks, e-stop, audit). */
import { toLlmosError } from '../../../lib/errors.js';
import type { CommandHandler } from './types.js';

export const call: CommandHandler = {
  schema: 'mqttCall',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { tool: string; args?: Record<string, unknown> };
    try {
      const r = await ctx.os.callTool({ name: p.tool, args: { ...(p.args ?? {}) } }, { source: 'operator' });
      ctx.reply({ tool: p.tool, ok: true, value: r.value ?? null, adjusted: r.adjusted });
    } catch (e) {
      ctx.fail(toLlmosError(e));
    }
  },
};
