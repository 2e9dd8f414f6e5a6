/**
 * pre_tool_use / post_tool_use hooks, as in the seed. A pre hook returns ALLOW, BLOCK or ASK
 * (ASK waits for a confirmation; no answer within the timeout means no). A post hook sees the
 * result and may BLOCK it, which turns the step into a failure. Hooks come from code
 * (`gate.addHook`) or from config rules (safety.hooks).
 */
import type { ToolDefinition } from './tools/index.js';

export type HookDecision = 'ALLOW' | 'BLOCK' | 'ASK';
export type CallSource = 'trace' | 'crystallized' | 'llm' | 'mqtt' | 'api' | 'cli' | 'operator';

export interface HookInput {
  tool: string;
  args: Readonly<Record<string, unknown>>;
  source: CallSource;
  run: string;
  /** True when the call replays learned behaviour (FOLLOWER, CRYSTALLIZED). */
  replay: boolean;
  definition: ToolDefinition | undefined;
}

export interface PostHookInput extends HookInput {
  result?: unknown;
  error?: { code: string; message: string };
}

export type HookVerdict = HookDecision | { decision: HookDecision; reason?: string } | undefined | void;

export type PreToolUseHook = (input: HookInput) => HookVerdict | Promise<HookVerdict>;
export type PostToolUseHook = (input: PostHookInput) => HookVerdict | Promise<HookVerdict>;

export interface HookRule {
  event: 'pre_tool_use' | 'post_tool_use';
  tool?: string;
  actuator?: string;
  source?: CallSource;
  match?: string;
  decision: HookDecision;
  reason?: string;
}

export function normalizeVerdict(v: HookVerdict): { decision: HookDecision; reason?: string } {
  if (!v) return { decision: 'ALLOW' };
  return typeof v === 'string' ? { decision: v } : v;
}

/** Compiles a config rule into a hook function; patterns are anchored regular expressions. */
export function ruleToHook(rule: HookRule): PreToolUseHook {
  const tool = rule.tool ? new RegExp(`^(?:${rule.tool})$`) : undefined;
  const match = rule.match ? new RegExp(rule.match) : undefined;
  return (input) => {
    if (tool && !tool.test(input.tool)) return undefined;
    if (rule.source && rule.source !== input.source) return undefined;
    if (rule.actuator && input.args['actuator'] !== rule.actuator) return undefined;
    if (match && !match.test(JSON.stringify(input.args))) return undefined;
    return { decision: rule.decision, reason: rule.reason ?? `config rule (${rule.event} ${rule.tool ?? '*'})` };
  };
}
