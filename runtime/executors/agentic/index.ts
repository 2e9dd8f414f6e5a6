/**
 * The agentic executor, one module: MIXED and LEARNER through the local model. This file is its
 * only entry point (the architecture test holds everyone else to it); follower.ts (the
 * AgenticFollower: budgets, recall, learning) and calls.ts (the model calls) are its private parts.
 * A multi-step LEARNER goal may first be split by the model (../orchestrator.ts). The goal's
 * wall-time budget also ends a tool call in progress.
 */
import { RealClock } from '../../../lib/clock.js';
import { LlmosError, toLlmosError } from '../../../lib/errors.js';
import type { ExecutionResult } from '../../result.js';
import type { ExecutorHost, RunContext } from '../context.js';
import { splitByModel } from '../orchestrator.js';
import { baseResult, errorInfo } from '../results.js';

export { AgenticFollower, type AgenticDeps, type AgenticRun, type AgenticResult } from './follower.js';

export async function runAgentic(host: ExecutorHost, run: RunContext): Promise<ExecutionResult> {
  const { decision, runId, started } = run;
  const agentic = host.agentic();
  const budget = run.budget ?? agentic.newBudget();
  const before = budget.calls;
  // The wall-time budget also ends a tool call in progress (a long wait or drive), not only
  // the next request: the run's signal fires when the goal's time is up.
  // (Real time only: a simulated clock jumps to its next timer whenever the process waits on the
  // model, so there the budget is checked at every call instead.)
  const deadline = new AbortController();
  const timer = host.clock instanceof RealClock
    ? host.clock.setTimeout(() => deadline.abort(new LlmosError('ERR_BUDGET_EXCEEDED', `the goal used its wall-time budget (${host.config.budget.wall_ms_per_goal} ms)`)), budget.remainingMs())
    : undefined;
  const signal = AbortSignal.any([run.signal, deadline.signal]);
  const ctx = { runId, signal, budget, onStep: (step: Parameters<ExecutorHost['step']>[1]) => host.step(runId, step) };
  try {
    const split = await splitByModel(host, run, { ...run, signal, budget }, ctx);
    if (split) return { ...split, llm_calls: budget.calls - before };
    const recalled = decision.mode === 'LEARNER' ? await agentic.recall(decision.goal, ctx) : undefined;
    const out = decision.mode === 'MIXED' ? await agentic.mixed(decision, ctx)
      : recalled ? await agentic.mixedFrom(decision.goal, recalled, ctx) : await agentic.learner(decision.goal, ctx);
    return {
      ...baseResult(decision, started, host.clock.now()),
      ...(recalled ? { mode: 'MIXED' as const, trace: recalled.record.trace.goal_signature, score: Math.round(recalled.similarity * 1000) / 1000, reason: `recalled by embeddings (similarity ${recalled.similarity.toFixed(2)})` } : {}),
      steps: out.steps, ok: out.ok, llm_calls: budget.calls - before,
      ...(out.learned ? { learned: out.learned } : {}),
      ...(out.error ? { error: errorInfo(out.error) } : {}),
    };
  } catch (e) {
    return { ...baseResult(decision, started, host.clock.now()), ok: false, llm_calls: budget.calls - before, error: errorInfo(toLlmosError(e, 'ERR_LLM_UNAVAILABLE')) };
  } finally {
    host.clock.clearTimeout(timer);
  }
}
