/**
 * Runs the gate's pre_tool_use and post_tool_use hooks (DESIGN.md invariant 7): a hook ALLOWs,
 * BLOCKs or ASKs; an ASK waits for a person's confirmation (confirm.ts) and is audited twice,
 * when asked and when confirmed. Hooks come from config rules and from `addHook`.
 */
import { LlmosError } from '../lib/errors.js';
import type { Decision } from './audit.js';
import type { ConfirmationBroker } from './confirm.js';
import { normalizeVerdict, ruleToHook, type HookInput, type HookRule, type PostToolUseHook, type PreToolUseHook } from './hooks.js';

export class HookRunner {
  private readonly pre: PreToolUseHook[] = [];
  private readonly post: PostToolUseHook[] = [];
  private readonly confirmations: ConfirmationBroker;

  constructor(rules: readonly HookRule[], confirmations: ConfirmationBroker) {
    this.confirmations = confirmations;
    for (const rule of rules) {
      if (rule.event === 'pre_tool_use') this.pre.push(ruleToHook(rule));
      else this.post.push(ruleToHook(rule) as PostToolUseHook);
    }
  }

  get hasPre(): boolean {
    return this.pre.length > 0;
  }

  get hasPost(): boolean {
    return this.post.length > 0;
  }

  add(event: 'pre_tool_use', hook: PreToolUseHook): () => void;
  add(event: 'post_tool_use', hook: PostToolUseHook): () => void;
  add(event: 'pre_tool_use' | 'post_tool_use', hook: PreToolUseHook | PostToolUseHook): () => void {
    const list = (event === 'pre_tool_use' ? this.pre : this.post) as Array<typeof hook>;
    list.push(hook);
    return () => { const i = list.indexOf(hook); if (i >= 0) list.splice(i, 1); };
  }

  async runPre(input: HookInput, signal: AbortSignal | undefined, entry: (d: Decision, r?: string, c?: string) => void): Promise<void> {
    for (const hook of this.pre) {
      const verdict = normalizeVerdict(await hook(input));
      if (verdict.decision === 'BLOCK') {
        throw new LlmosError('ERR_HOOK_BLOCKED', `${input.tool} blocked by a pre_tool_use hook${verdict.reason ? `: ${verdict.reason}` : ''}`);
      }
      if (verdict.decision === 'ASK') {
        const reason = verdict.reason ?? 'confirmation required';
        entry('ask', reason);
        const approved = await this.confirmations.request({ tool: input.tool, args: input.args, source: input.source, run: input.run, reason }, signal);
        if (!approved) throw new LlmosError('ERR_CONFIRM_DENIED', `${input.tool} needed confirmation (${reason}) and none was given in time`);
        entry('confirmed', reason);
      }
    }
  }

  async runPost(input: HookInput & { result: unknown }): Promise<void> {
    for (const hook of this.post) {
      const verdict = normalizeVerdict(await hook(input));
      if (verdict.decision === 'BLOCK') {
        throw new LlmosError('ERR_HOOK_BLOCKED', `${input.tool} result rejected by a post_tool_use hook${verdict.reason ? `: ${verdict.reason}` : ''}`);
      }
    }
  }
}
