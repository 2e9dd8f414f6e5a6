/**
 * The executors by mode: one table. The dispatcher decides the mode; LLMOS runs the decision
 * through EXECUTORS[mode]. STOP and ESTOP never get here (stop words act ahead of the queue):
 * like REFUSED they run nothing.
 */
import { LlmosError } from '../../lib/errors.js';
import type { ExecutionResult } from '../result.js';
import type { ExecutorHost, ExecutorTable, RunContext } from './context.js';
import { runLearned } from './learned.js';
import { runAgentic } from './agentic/index.js';
import { runOrchestrator } from './orchestrator.js';
import { baseResult, errorInfo } from './results.js';

export type { Executor, ExecutorHost, ExecutorTable, GoalContext, RunContext } from './context.js';

async function refused(host: ExecutorHost, run: RunContext): Promise<ExecutionResult> {
  const { decision } = run;
  return { ...baseResult(decision, run.started, host.clock.now()), ok: false, error: errorInfo(decision.error ?? new LlmosError('ERR_NO_MATCH', 'refused')) };
}

export const EXECUTORS: ExecutorTable = {
  FOLLOWER: runLearned,
  CRYSTALLIZED: runLearned,
  ORCHESTRATOR: runOrchestrator,
  MIXED: runAgentic,
  LEARNER: runAgentic,
  REFUSED: refused,
  STOP: refused,
  ESTOP: refused,
};
