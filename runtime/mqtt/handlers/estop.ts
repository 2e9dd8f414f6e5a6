/** cmd/estop: engage (always, even repeated: it is safe) or release (needs a fresh id) the latched e-stop. */
import { LlmosError } from '../../../lib/errors.js';
import type { CommandHandler } from './types.js';

export const estop: CommandHandler = {
  schema: 'mqttEstop',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { id?: string; action: 'engage' | 'release'; reason?: string; engagement?: number };
    if (p.action === 'engage') {
      await ctx.os.estop(p.reason ?? 'remote (MQTT)', 'mqtt');
      // The number a release must name (state.estop.engagement).
      ctx.reply({ engaged: true, engagement: ctx.os.gate.estopStatus.engagement });
      return;
    }
    if (!p.id) {
      ctx.fail(new LlmosError('ERR_MQTT', 'releasing the e-stop needs a command id'));
      return;
    }
    const status = ctx.os.gate.estopStatus;
    if (p.engagement === undefined) {
      ctx.fail(new LlmosError('ERR_MQTT', `releasing the e-stop needs "engagement": the number in state.estop.engagement (now ${status.engagement}) of the e-stop you mean to clear`));
      return;
    }
    if (status.engaged && p.engagement !== status.engagement) {
      ctx.fail(new LlmosError('ERR_MQTT', `this release is for e-stop ${p.engagement}, but e-stop ${status.engagement} (${status.reason ?? ''}) was engaged since; not released`));
      return;
    }
    const released = ctx.os.releaseEstop('mqtt');
    ctx.reply({ engaged: false, released });
  },
};
