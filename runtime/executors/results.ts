/** The result shapes every executor starts from (and --explain reports). */
import { LlmosError } from '../../lib/errors.js';
import type { ToolCall } from '../../safety/gate.js';
import type { Decision } from '../dispatcher.js';
import type { ErrorInfo, ExecutionResult } from '../result.js';

export function errorInfo(e: LlmosError): ErrorInfo {
  return { code: e.code, message: e.message };
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The fields a decision fixes before anything runs; `now` is the clock's time at this point. */
export function baseResult(decision: Decision, started: number, now: number): ExecutionResult {
  const cand = decision.candidate;
  const serving = decision.mode === 'FOLLOWER' || decision.mode === 'CRYSTALLIZED' || decision.mode === 'MIXED';
  return {
    goal: decision.goal,
    mode: decision.mode,
    trace: serving && cand ? cand.trace.goal_signature : null,
    score: decision.score,
    params: decision.mode === 'REFUSED' ? {} : decision.params,
    ok: true,
    llm_calls: 0,
    steps: [],
    duration_ms: round(now - started),
    ...(serving && cand ? { goal_text: cand.trace.goal_text } : {}),
    ...(decision.didYouMean ? { did_you_mean: decision.didYouMean } : {}),
    ...(decision.mode === 'REFUSED' || decision.mode === 'MIXED' || decision.mode === 'LEARNER' ? { nearest: decision.nearest } : {}),
  };
}

/** --explain: the decision and its plan, nothing executed. */
export function explainResult(decision: Decision, started: number, now: () => number): ExecutionResult {
  const result: ExecutionResult & { plan?: ToolCall[] } = {
    ...baseResult(decision, started, now()), explain: true, ok: decision.mode !== 'REFUSED',
    ...(decision.error ? { error: errorInfo(decision.error) } : {}),
  };
  if (decision.calls) result.plan = decision.calls;
  if (decision.parts) result.parts = decision.parts.map((p) => explainResult(p, started, now));
  return result;
}

/** A goal refused before its turn (a stop after it was queued, its deadline, an interrupt). */
export function refusedResult(goal: string, error: LlmosError): ExecutionResult {
  return { goal, mode: 'REFUSED', trace: null, score: 0, params: {}, ok: false, llm_calls: 0, steps: [], duration_ms: 0, error: errorInfo(error) };
}
