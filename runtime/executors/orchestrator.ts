/**
 * ORCHESTRATOR: a goal of several parts runs them in order, each by its own mode, and stops at
 * the first that fails. The parts come from the deterministic splitter (the dispatcher) or from
 * the model's split of a LEARNER goal (splitByModel).
 */
import { toLlmosError } from '../../lib/errors.js';
import type { Decision } from '../dispatcher.js';
import type { ExecutionResult } from '../result.js';
import type { AgenticRun } from './agentic/index.js';
import type { ExecutorHost, GoalContext, RunContext } from './context.js';
import { baseResult } from './results.js';

/** Wording that suggests several steps the deterministic splitter did not separate. */
const MULTI_STEP = /\band\b|,|\bwhile\b|\bbefore\b|\bafter\b/i;

export async function runOrchestrator(host: ExecutorHost, run: RunContext): Promise<ExecutionResult> {
  const { decision } = run;
  const parts: ExecutionResult[] = [];
  for (const part of decision.parts ?? []) {
    const r = await host.runDecision(part, run, host.clock.now());
    parts.push(r);
    if (!r.ok) break;
  }
  const failed = parts.find((p) => !p.ok);
  return {
    ...baseResult(decision, run.started, host.clock.now()), parts, steps: parts.flatMap((p) => p.steps),
    llm_calls: parts.reduce((n, p) => n + p.llm_calls, 0), ok: !failed && parts.length === (decision.parts ?? []).length,
    ...(failed?.error ? { error: { code: failed.error.code, message: `part "${failed.goal}": ${failed.error.message}` } } : {}),
  };
}

/**
 * A LEARNER goal whose wording suggests several steps is first split by the model; when it
 * finds more than one part, they run as an ORCHESTRATOR goal whose parts the model chose.
 * Undefined: not split (one step, already split, or the model's split was unusable).
 */
export async function splitByModel(
  host: ExecutorHost, run: RunContext, goal: GoalContext, ctx: AgenticRun,
): Promise<ExecutionResult | undefined> {
  const { decision } = run;
  if (decision.mode !== 'LEARNER' || !MULTI_STEP.test(decision.goal) || run.splitDone) return undefined;
  // A split the model botches is not the goal failing: run it whole instead.
  const steps = await host.agentic().split(decision.goal, ctx).catch((e: unknown) => {
    if (toLlmosError(e).code !== 'ERR_LLM_BAD_OUTPUT') throw e;
    host.log.warn(`the model's split of "${decision.goal}" was unusable (${toLlmosError(e).message}); running it as one goal`);
    return [decision.goal];
  });
  if (steps.length <= 1) return undefined;
  const parts = steps.map((g) => host.dispatcher.decide(g, { allowLlm: true, split: false }));
  const orchestrated: Decision = { goal: decision.goal, mode: 'ORCHESTRATOR', score: Math.min(...parts.map((p) => p.score)), params: {}, parts, nearest: [] };
  return host.runDecision(orchestrated, { ...goal, splitDone: true, chosenByModel: true }, run.started);
}
