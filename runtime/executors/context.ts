/**
 * What an executor is given: the runtime's parts it may use (the host) and one run context per
 * decision it runs. One context object replaces the positional parameters and the call-context
 * literals each mode used to build for itself.
 */
import type { Clock } from '../../lib/clock.js';
import type { CallContext, CallSource, SafetyGate } from '../../safety/gate.js';
import type { AgenticFollower } from './agentic/index.js';
import type { RuntimeConfig } from '../config.js';
import type { Crystallizer } from '../crystallize/crystallizer.js';
import type { CrystallizedRegistry } from '../crystallize/registry.js';
import type { Decision, Dispatcher } from '../dispatcher.js';
import type { Logger } from '../logger.js';
import type { GoalBudget } from '../ollama/budget.js';
import type { ExecutionResult, Mode, StepResult } from '../result.js';
import type { TraceStore } from '../traces/store.js';

/** One top-level goal's context, shared by its parts. */
export interface GoalContext {
  source: CallSource;
  signal: AbortSignal;
  budget?: GoalBudget;
  /** The model already split this goal: do not ask again for its parts. */
  splitDone?: boolean;
  /** The model chose this goal's parts: their replays are LLM-originated for hooks and budget. */
  chosenByModel?: boolean;
}

/** One decision being run: the goal's context plus this run's id, decision and start time. */
export interface RunContext extends GoalContext {
  decision: Decision;
  runId: string;
  started: number;
}

/** The runtime as the executors see it (LLMOS after boot). */
export interface ExecutorHost {
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly gate: SafetyGate;
  readonly traces: TraceStore;
  readonly dispatcher: Dispatcher;
  readonly crystallized: CrystallizedRegistry;
  readonly crystallizer: Crystallizer;
  agentic(): AgenticFollower;
  /** Reports a step of the run `runId` (the `step` event). */
  step(runId: string, step: StepResult): void;
  /** Runs a decision as a part of a goal: its own run id, events and executor. */
  runDecision(decision: Decision, goal: GoalContext, started: number): Promise<ExecutionResult>;
}

export type Executor = (host: ExecutorHost, run: RunContext) => Promise<ExecutionResult>;
export type ExecutorTable = Record<Mode, Executor>;

/** The gate context for a learned replay; a part the model picked stays the model's ('llm'). */
export function replayContext(run: RunContext, source: 'trace' | 'crystallized'): CallContext {
  const modelBudget = run.chosenByModel ? run.budget : undefined;
  return { source: modelBudget ? 'llm' : source, runId: run.runId, signal: run.signal, replay: true, ...(modelBudget ? { budget: modelBudget } : {}) };
}

/** What every step runner of a run needs (gate, clock, workspace, step reports). */
export function stepBase(host: ExecutorHost, run: RunContext): { gate: SafetyGate; clock: Clock; workspace: string; onStep: (step: StepResult) => void } {
  return { gate: host.gate, clock: host.clock, workspace: host.config.paths.workspace, onStep: (step) => host.step(run.runId, step) };
}
