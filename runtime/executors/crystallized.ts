/**
 * CRYSTALLIZED: runs a trace's generated function. The function acts only through the ToolApi
 * given here, which sends every call through the safety gate as source 'crystallized', with the
 * same per-step checks and on_error policies as a replay of the trace.
 */
import { toLlmosError } from '../../lib/errors.js';
import type { ToolApi } from '../crystallized-api.js';
import type { CrystallizedFunction } from '../crystallize/registry.js';
import type { TraceCheck } from '../trace-types.js';
import type { ReplayResult } from './follower.js';
import { StepRunner, type StepMeta, type StepRunnerOptions } from './steps.js';

export async function runCrystallized(
  fn: CrystallizedFunction,
  params: Record<string, number>,
  opts: StepRunnerOptions & { signal: AbortSignal },
): Promise<ReplayResult> {
  const runner = new StepRunner(opts);
  const tools: ToolApi = {
    call: (tool, args, options) => runner.run({ name: tool, args }, (options ?? {}) as StepMeta),
    precondition: (check) => runner.precondition(check as TraceCheck | TraceCheck[]),
    signal: opts.signal,
  };
  try {
    await fn(tools, params);
    return { ok: true, steps: runner.steps };
  } catch (e) {
    return { ok: false, steps: runner.steps, error: toLlmosError(e, 'ERR_STEP_FAILED') };
  } finally {
    await runner.finish();
  }
}
