/**
 * The agentic follower's executors, for when nothing learned fits well enough:
 *   MIXED    one reduced call: the model adapts the nearest trace (a plan) to the goal and answers
 *            with tool calls as structured JSON; they are replayed through the gate.
 *   LEARNER  a tool loop with native tool calls. The model starts with only search_tools and gets
 *            the tools it asks for, so a small model's context stays small. Tool calls written as
 *            text are read by a fallback parser.
 * Every tool call goes through the safety gate as source 'llm' with the goal's budget; iterations,
 * tokens and wall time are bounded. The run's successful tool calls are returned for learning.
 */
import type { Clock } from '../../../lib/clock.js';
import { endsRun, LlmosError, toLlmosError } from '../../../lib/errors.js';
import { check, describeIssues } from '../../../lib/validate.js';
import type { SafetyGate, ToolCall } from '../../../safety/gate.js';
import type { ToolDefinition } from '../../../safety/tools/index.js';
import type { GoalBudget } from '../../ollama/budget.js';
import { learnerPrompt, mixedPrompt, PLAN_FORMAT, splitPrompt, SPLIT_FORMAT, systemPrompt, type PromptContext } from '../../ollama/prompts.js';
import { parseTextToolCalls } from '../../ollama/text-tool-calls.js';
import type { ChatTurn, LlmAdapter, LlmTool } from '../../ollama/types.js';
import type { StepResult } from '../../result.js';
import { StepRunner } from '../steps.js';

export interface AgenticContext {
  llm: LlmAdapter;
  gate: SafetyGate;
  clock: Clock;
  workspace: string;
  budget: GoalBudget;
  runId: string;
  signal: AbortSignal;
  prompt: PromptContext;
  maxIterations: number;
  onStep?: (step: StepResult) => void;
}

export interface AgenticOutcome {
  /** The goal was carried out: the plan ran (MIXED) or the model finished (LEARNER). */
  ok: boolean;
  /** No tool call failed on the way: only a clean run may be learned. */
  clean: boolean;
  steps: StepResult[];
  /** Successful tool calls other than search_tools, in order: what a learned trace replays. */
  performed: ToolCall[];
  /** The model's closing words (LEARNER), e.g. a SUGGESTION line. */
  finalText?: string;
  error?: LlmosError;
}

function toLlmTool(def: ToolDefinition): LlmTool {
  return { name: def.name, description: def.description, parameters: def.parameters as unknown as Record<string, unknown> };
}

async function ask(ctx: AgenticContext, messages: ChatTurn[], extra: { tools?: LlmTool[]; format?: Record<string, unknown> }): Promise<{ content: string; toolCalls: ReturnType<typeof parseTextToolCalls> }> {
  ctx.budget.beforeCall();
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, ctx.budget.remainingMs()))]);
  const reply = await ctx.llm.chat({ messages, ...extra, signal }).catch((e: unknown) => {
    ctx.budget.charge(0);
    throw e;
  });
  ctx.budget.charge(reply.promptTokens + reply.outputTokens);
  if (reply.toolCalls.length > 0 || !reply.content) return { content: reply.content, toolCalls: reply.toolCalls };
  // Calls written as text count only when they name a tool the model was offered: prose that
  // happens to hold {"name": ...} (a sensor reading it reports) is not a call.
  const offered = new Set((extra.tools ?? []).map((t) => t.name));
  return { content: reply.content, toolCalls: parseTextToolCalls(reply.content).filter((c) => offered.has(c.name)) };
}

function runner(ctx: AgenticContext): StepRunner {
  return new StepRunner({
    gate: ctx.gate, clock: ctx.clock, workspace: ctx.workspace,
    ctx: { source: 'llm', runId: ctx.runId, signal: ctx.signal, replay: false, budget: ctx.budget },
    ...(ctx.onStep ? { onStep: ctx.onStep } : {}),
  });
}

/** Parses a JSON answer against one of the shipped schemas; ERR_LLM_BAD_OUTPUT when it does not fit. */
function structured<T>(content: string, schema: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(content.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    throw new LlmosError('ERR_LLM_BAD_OUTPUT', `the model's ${what} is not JSON: ${JSON.stringify(content.slice(0, 120))}`);
  }
  const issues = check(schema, value);
  if (issues.length > 0) throw new LlmosError('ERR_LLM_BAD_OUTPUT', `the model's ${what} does not fit its schema: ${describeIssues(issues)}`);
  return value as T;
}

/** MIXED: one call to adapt a learned plan; the adapted calls are replayed through the gate. */
export async function runMixed(ctx: AgenticContext, goal: string, similar: { goal: string; plan: ToolCall[] }): Promise<AgenticOutcome> {
  const steps = runner(ctx);
  try {
    const catalog = ctx.gate.catalog;
    const names = [...catalog.keys()].filter((n) => n !== 'search_tools');
    const reply = await ask(ctx, [
      { role: 'system', content: systemPrompt(ctx.prompt) },
      { role: 'user', content: mixedPrompt(goal, similar.goal, similar.plan, names) },
    ], { format: PLAN_FORMAT });
    const plan = structured<{ tool_calls: Array<{ name: string; args: Record<string, unknown> }> }>(reply.content, 'llmPlan', 'plan');
    const unknown = plan.tool_calls.filter((c) => !catalog.has(c.name)).map((c) => c.name);
    if (unknown.length > 0) throw new LlmosError('ERR_LLM_BAD_OUTPUT', `the model's plan uses tools this board does not have: ${unknown.join(', ')}`);
    const performed: ToolCall[] = [];
    for (const c of plan.tool_calls) {
      await steps.run({ name: c.name, args: c.args });
      performed.push({ name: c.name, args: c.args });
    }
    return { ok: true, clean: true, steps: steps.steps, performed };
  } catch (e) {
    return { ok: false, clean: false, steps: steps.steps, performed: [], error: toLlmosError(e, 'ERR_LLM_BAD_OUTPUT') };
  } finally {
    await steps.finish();
  }
}

/** LEARNER: the tool loop. */
export async function runLearner(ctx: AgenticContext, goal: string): Promise<AgenticOutcome> {
  const steps = runner(ctx);
  const catalog = ctx.gate.catalog;
  const search = catalog.get('search_tools');
  const available = new Map<string, ToolDefinition>(search ? [['search_tools', search]] : []);
  const messages: ChatTurn[] = [{ role: 'system', content: systemPrompt(ctx.prompt) }, { role: 'user', content: learnerPrompt(goal) }];
  const performed: ToolCall[] = [];
  let failed: LlmosError | undefined;
  // The latest error the model has not yet made good with a successful call.
  let unresolved: LlmosError | undefined;
  try {
    for (let iteration = 0; iteration < ctx.maxIterations; iteration++) {
      const reply = await ask(ctx, messages, { tools: [...available.values()].map(toLlmTool) });
      messages.push({ role: 'assistant', content: reply.content, ...(reply.toolCalls.length ? { tool_calls: reply.toolCalls } : {}) });
      if (reply.toolCalls.length === 0) {
        if (performed.length === 0 && !failed) throw new LlmosError('ERR_LLM_BAD_OUTPUT', `the model finished without calling any tool: ${JSON.stringify(reply.content.slice(0, 160))}`);
        // A model that stops right after a refused or failed call has not done the goal.
        if (unresolved) return { ok: false, clean: false, steps: steps.steps, performed, error: unresolved, finalText: reply.content };
        return { ok: true, clean: failed === undefined, steps: steps.steps, performed, finalText: reply.content };
      }
      for (const call of reply.toolCalls) {
        let content: string;
        if (!catalog.has(call.name)) {
          unresolved = new LlmosError('ERR_TOOL_UNKNOWN', `the model called an unknown tool "${call.name}"`);
          failed ??= unresolved;
          content = JSON.stringify({ error: { code: 'ERR_TOOL_UNKNOWN', message: `no tool "${call.name}"; use search_tools` } });
        } else if (!available.has(call.name)) {
          unresolved = new LlmosError('ERR_TOOL_ARGS', `the model called "${call.name}" before asking for it with search_tools`);
          failed ??= unresolved;
          content = JSON.stringify({ error: { code: 'ERR_TOOL_UNKNOWN', message: `call search_tools first to get "${call.name}"` } });
        } else {
          try {
            const value = await steps.run({ name: call.name, args: call.arguments });
            if (call.name === 'search_tools') {
              for (const t of (value as { tools?: Array<{ name: string }> }).tools ?? []) {
                const def = catalog.get(t.name);
                if (def) available.set(def.name, def);
              }
            } else {
              performed.push({ name: call.name, args: call.arguments });
              unresolved = undefined;
            }
            content = JSON.stringify({ result: value });
          } catch (e) {
            const err = toLlmosError(e, 'ERR_STEP_FAILED');
            if (endsRun(err.code)) throw err;
            unresolved = err;
            failed ??= err;
            content = JSON.stringify({ error: { code: err.code, message: err.message } });
          }
        }
        messages.push({ role: 'tool', tool_name: call.name, content });
      }
    }
    throw new LlmosError('ERR_BUDGET_EXCEEDED', `the model did not finish within ${ctx.maxIterations} iterations`);
  } catch (e) {
    return { ok: false, clean: false, steps: steps.steps, performed, error: toLlmosError(e, 'ERR_LLM_BAD_OUTPUT') };
  } finally {
    await steps.finish();
  }
}

/** ORCHESTRATOR by the model: split a goal the wording does not split. */
export async function splitWithModel(ctx: AgenticContext, goal: string): Promise<string[]> {
  const reply = await ask(ctx, [
    { role: 'system', content: systemPrompt({ ...ctx.prompt, suggestions: false }) },
    { role: 'user', content: splitPrompt(goal) },
  ], { format: SPLIT_FORMAT });
  return structured<{ steps: string[] }>(reply.content, 'llmSplit', 'split').steps.map((s) => s.trim()).filter(Boolean);
}
