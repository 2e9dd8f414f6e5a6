/**
 * FOLLOWER and CRYSTALLIZED: learned behaviour, no LLM. A crystallized function that is refused
 * or broken falls back to replaying its trace. Both count towards the trace's statistics, and a
 * successful FOLLOWER run may crystallize its trace (auto-crystallization).
 */
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import type { ExecutionResult } from '../result.js';
import { replayContext, stepBase, type ExecutorHost, type RunContext } from './context.js';
import { runCrystallized } from './crystallized.js';
import { replay, type ReplayResult } from './follower.js';
import { baseResult, errorInfo } from './results.js';

export async function runLearned(host: ExecutorHost, run: RunContext): Promise<ExecutionResult> {
  const { decision, signal } = run;
  const cand = decision.candidate;
  if (!cand || !decision.calls) throw new LlmosError('ERR_INTERNAL', `${decision.mode} decision without a trace`);
  const trace = cand.trace;
  const base = stepBase(host, run);
  let mode = decision.mode;
  let fnName: string | undefined;
  let r: ReplayResult | undefined;
  if (mode === 'CRYSTALLIZED') {
    try {
      const { name, fn } = await host.crystallized.get(trace.goal_signature);
      fnName = name;
      r = await runCrystallized(fn, cand.params, { ...base, signal, ctx: replayContext(run, 'crystallized') });
    } catch (e) {
      // A refused or broken function: this trace keeps working as FOLLOWER.
      host.log.warn(`crystallized function for "${trace.goal_text}" unavailable (${toLlmosError(e).message}); running the trace`);
      mode = 'FOLLOWER';
    }
  }
  // A learned trace the model picked (its split of a goal) is still the model's choice: hooks and
  // the LLM budget see it as such (replayContext).
  r ??= await replay(decision.calls, trace.tool_calls, trace.preconditions, { ...base, ctx: replayContext(run, 'trace') });
  try {
    const ok = r.ok && !signal.aborted;
    // A run cut short (a stop, a shutdown, a closed output) says nothing about the trace; one a
    // safety rule stopped (a reflex, an e-stop) still counts against it.
    const aborted = (signal.aborted && toLlmosError(signal.reason).code === 'ERR_ABORTED') || r.error?.code === 'ERR_ABORTED';
    if (!aborted) await host.traces.recordRun(trace.goal_signature, ok, host.clock.wallNow());
    if (ok && mode === 'FOLLOWER') {
      const made = await host.crystallizer.maybeAuto(trace.goal_signature);
      if (made) host.log.info(`crystallized "${trace.goal_text}" into ${made.fileName} (${made.name})`);
    }
  } catch (e) {
    host.log.warn(`could not update trace statistics or crystallize: ${toLlmosError(e).message}`);
  }
  return {
    ...baseResult(decision, run.started, host.clock.now()), mode, steps: r.steps, ok: r.ok,
    ...(fnName ? { crystallized: fnName } : {}),
    ...(r.error ? { error: errorInfo(r.error) } : {}),
  };
}
