/** cmd/state: the current state, as on the retained state topic. */
import type { CommandHandler } from './types.js';

export const state: CommandHandler = {
  schema: 'mqttState',
  dedupe: false,
  async handle(ctx) {
    ctx.reply(ctx.state());
  },
};
