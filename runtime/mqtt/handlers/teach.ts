/** cmd/teach: start / stop / save / discard a demonstration made of the operator's calls. */
import { toLlmosError } from '../../../lib/errors.js';
import { discardTeaching, saveTeaching, startTeaching, stopTeaching } from '../../operator/teach-session.js';
import type { CommandHandler } from './types.js';

export const teach: CommandHandler = {
  schema: 'mqttTeach',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { action: 'start' | 'stop' | 'save' | 'discard'; goal?: string };
    try {
      switch (p.action) {
        case 'start':
          startTeaching(ctx.os, p.goal as string);
          ctx.reply({ teaching: p.goal, ok: true });
          return;
        case 'stop':
          ctx.reply({ ok: true, ...stopTeaching(ctx.os) });
          return;
        case 'save': {
          const rec = await saveTeaching(ctx.os);
          ctx.reply({ ok: true, signature: rec.trace.goal_signature, goal: rec.trace.goal_text, parameters: Object.keys(rec.trace.parameters ?? {}) });
          return;
        }
        case 'discard':
          ctx.reply({ ok: true, discarded: discardTeaching(ctx.os) });
          return;
      }
    } catch (e) {
      ctx.fail(toLlmosError(e));
    }
  },
};
