/** cmd/traces: list the learned traces, or show one by signature. */
import { LlmosError } from '../../../lib/errors.js';
import type { CommandHandler } from './types.js';

export const traces: CommandHandler = {
  schema: 'mqttTraces',
  dedupe: false,
  async handle(ctx) {
    const p = ctx.payload as { action?: 'list' | 'show'; signature?: string; limit?: number };
    if (p.action === 'show') {
      const rec = p.signature ? ctx.os.traces.get(p.signature) : undefined;
      if (!rec) {
        ctx.fail(new LlmosError('ERR_TRACE_NOT_FOUND', p.signature ? `no trace with signature ${p.signature}` : 'show needs a signature'));
        return;
      }
      ctx.reply(rec.trace);
      return;
    }
    const all = ctx.os.traces.all().map((r) => ({
      signature: r.trace.goal_signature, goal_text: r.trace.goal_text, usage_count: r.trace.usage_count,
      success_rate: r.trace.success_rate, ...(r.trace.crystallized ? { crystallized: r.trace.crystallized.function } : {}),
    }));
    all.sort((a, b) => b.usage_count - a.usage_count || a.goal_text.localeCompare(b.goal_text));
    ctx.reply({ total: all.length, traces: all.slice(0, p.limit ?? 100) });
  },
};
