/** cmd/estop: engage (always, even repeated: it is safe) or release (needs a fresh id) the latched e-stop. */
import { LlmosError } from '../../../lib/errors.js';
import type { CommandHandler } from './types.js';

export const estop: CommandHandler = {
  schema: 'mqttEstop',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { id?: string; action: 'engage' | 'release'; reason?: string };
    if (p.action === 'engage') {
      await ctx.os.estop(p.reason ?? 'remote (MQTT)', 'mqtt');
      ctx.reply({ engaged: true });
      return;
    }
    if (!p.id) {
      ctx.fail(new LlmosError('ERR_MQTT', 'releasing the e-stop needs a command id'));
      return;
    }
    const released = ctx.os.releaseEstop('mqtt');
    ctx.reply({ engaged: false, released });
  },
};
