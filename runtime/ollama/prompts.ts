/** The prompts and structured-output schemas of the agentic follower, in one place. */
import type { ToolCall } from '../../safety/gate.js';

export interface PromptContext {
  agentPrompt: string;
  /** The sentience internal-state block, when the layer is on. */
  internalState?: string;
  /** AUTO_CREATIVE: the model may add one improvement suggestion. */
  suggestions: boolean;
}

export function systemPrompt(ctx: PromptContext): string {
  const parts = [ctx.agentPrompt];
  if (ctx.internalState) parts.push(ctx.internalState);
  if (ctx.suggestions) parts.push('After the goal is done you may add one line starting with "SUGGESTION:" proposing one improvement.');
  return parts.join('\n\n');
}

export function learnerPrompt(goal: string): string {
  return `Goal: ${goal}\nFind the tools you need with search_tools, then call them to achieve the goal. When the goal is done, answer with one short sentence and no tool call.`;
}

export function mixedPrompt(goal: string, similar: string, plan: readonly ToolCall[], tools: readonly string[]): string {
  return [
    `Goal: ${goal}`,
    `A learned plan for the similar goal "${similar}":`,
    JSON.stringify({ tool_calls: plan.map((c) => ({ name: c.name, args: c.args })) }),
    `Adapt this plan to the goal. Answer only with JSON {"tool_calls": [{"name": ..., "args": {...}}]} using these tools: ${tools.join(', ')}.`,
  ].join('\n');
}

export function splitPrompt(goal: string): string {
  return `Split this robot goal into the sequence of simple sub-goals it is made of, in order, each a short imperative sentence. If it is a single step, answer with one step.\nGoal: ${goal}\nAnswer only with JSON {"steps": ["...", "..."]}.`;
}

export const PLAN_FORMAT: Record<string, unknown> = {
  type: 'object',
  properties: { tool_calls: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, args: { type: 'object' } }, required: ['name', 'args'] } } },
  required: ['tool_calls'],
};

export const SPLIT_FORMAT: Record<string, unknown> = {
  type: 'object',
  properties: { steps: { type: 'array', items: { type: 'string' } } },
  required: ['steps'],
};
