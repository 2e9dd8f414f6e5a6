/** cmd/execute: run a goal; late commands (past their deadline) and goals off the allow-list are refused. */
import { LlmosError } from '../../../lib/errors.js';
import { embeddedStopOf } from '../../stop-words.js';
import type { CommandHandler } from './types.js';

function deadlineOf(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const t = typeof raw === 'number' ? raw : Date.parse(String(raw));
  return Number.isFinite(t) ? t : NaN;
}

export const execute: CommandHandler = {
  schema: 'mqttExecute',
  dedupe: true,
  async handle(ctx) {
    const p = ctx.payload as { goal: string; deadline?: string | number; explain?: boolean; allow_llm?: boolean; allow_llm_in_recovery?: boolean };
    // A stop word ("stop", "e-stop") always acts: no deadline or allow-list holds back a stop.
    if (ctx.os.stopOf(p.goal) || embeddedStopOf(p.goal)) {
      ctx.reply(await ctx.os.execute(p.goal, { source: 'mqtt', explain: p.explain === true }));
      return;
    }
    const deadline = deadlineOf(p.deadline);
    if (deadline !== undefined && Number.isNaN(deadline)) {
      ctx.fail(new LlmosError('ERR_MQTT', `deadline ${JSON.stringify(p.deadline)} is neither an ISO time nor epoch milliseconds`));
      return;
    }
    if (deadline !== undefined && Date.now() > deadline) {
      ctx.fail(new LlmosError('ERR_MQTT', `the command arrived ${Date.now() - deadline} ms after its deadline; not executed`));
      return;
    }
    if (!ctx.goalAllowed(p.goal)) {
      ctx.fail(new LlmosError('ERR_MQTT', `goal "${p.goal}" is not on this device's allow-list for remote goals (mqtt.allow_goals)`));
      return;
    }
    // Checked again when the goal's turn comes: a goal queued behind another may expire waiting.
    const notAfter = Math.min(deadline ?? Infinity, ctx.expiresAt ?? Infinity);
    const result = await ctx.os.execute(p.goal, {
      source: 'mqtt',
      ...(Number.isFinite(notAfter) ? { notAfter } : {}),
      explain: p.explain === true,
      allowLlm: ctx.allowLlm && p.allow_llm === true,
      allowLlmInRecovery: p.allow_llm_in_recovery === true,
    });
    ctx.reply(result);
  },
};
