/**
 * FOLLOWER: programmatic tool calling (PTC). Replays a trace's tool calls, with parameters bound,
 * through the safety gate, one by one, with per-step checks and the step's on_error policy
 * (retry / skip / fail). No LLM is involved. The run's heartbeat keeps its own motions alive
 * between steps; when the run ends, anything it left moving is stopped.
 */
import { toLlmosError, type LlmosError } from '../../lib/errors.js';
import type { ToolCall } from '../../safety/gate.js';
import type { StepResult } from '../result.js';
import type { TraceCheck } from '../traces/types.js';
import { StepRunner, type StepMeta, type StepRunnerOptions } from './steps.js';

export type ReplayOptions = StepRunnerOptions;

export interface ReplayResult {
  ok: boolean;
  steps: StepResult[];
  error?: LlmosError;
}

export async function replay(
  calls: readonly ToolCall[],
  meta: readonly StepMeta[],
  preconditions: readonly TraceCheck[] | undefined,
  opts: ReplayOptions,
): Promise<ReplayResult> {
  const runner = new StepRunner(opts);
  try {
    await runner.precondition(preconditions);
    for (const [index, call] of calls.entries()) await runner.run(call, meta[index] ?? {});
    return { ok: true, steps: runner.steps };
  } catch (e) {
    return { ok: false, steps: runner.steps, error: toLlmosError(e, 'ERR_STEP_FAILED') };
  } finally {
    await runner.finish();
  }
}
