/** cmd/confirm: approve or refuse a call that waits for confirmation (see the confirm_request event). */
import { LlmosError } from '../../../lib/errors.js';
import type { CommandHandler } from './types.js';

export const confirm: CommandHandler = {
  schema: 'mqttConfirm',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { confirmation: string; approve: boolean };
    if (!ctx.os.gate.confirmations.answer(p.confirmation, p.approve)) {
      ctx.fail(new LlmosError('ERR_MQTT', `no confirmation "${p.confirmation}" is waiting (answered, expired or unknown)`));
      return;
    }
    ctx.reply({ confirmation: p.confirmation, approved: p.approve });
  },
};
