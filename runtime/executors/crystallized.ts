/**
 * CRYSTALLIZED: runs a trace's generated function. The function acts only through the ToolApi
 * given here, which sends every call through the safety gate as source 'crystallized', with the
 * same per-step checks and on_error policies as a replay of the trace.
 *
 * The ToolApi lives exactly as long as the run: when the function returns or throws, or the run
 * is aborted (its goal's signal, or any e-stop), the API is revoked. A call made later (from a
 * timer the function left behind) fails with ERR_TOOL_REVOKED and never reaches the gate, so it
 * moves nothing, even after the e-stop is released.
 */
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import type { ToolApi } from '../crystallized-api.js';
import type { CrystallizedFunction } from '../crystallize/registry.js';
import type { TraceCheck } from '../traces/types.js';
import type { ReplayResult } from './follower.js';
import { StepRunner, type StepMeta, type StepRunnerOptions } from './steps.js';

export async function runCrystallized(
  fn: CrystallizedFunction,
  params: Record<string, number>,
  opts: StepRunnerOptions & { signal: AbortSignal },
): Promise<ReplayResult> {
  // The run's own signal: aborted by the goal's signal, by any e-stop, and when the run ends.
  const run = new AbortController();
  const onParent = (): void => run.abort(opts.signal.reason);
  if (opts.signal.aborted) onParent(); else opts.signal.addEventListener('abort', onParent, { once: true });
  const offEstop = opts.gate.events.on('estop', ({ engaged, reason, source }) => {
    if (engaged) run.abort(new LlmosError('ERR_ESTOP_ENGAGED', `e-stop engaged by ${source}: ${reason}`));
  });
  let revoked: string | undefined;
  const pending = new Set<Promise<unknown>>();
  const guard = (what: string): void => {
    if (revoked !== undefined) throw new LlmosError('ERR_TOOL_REVOKED', `${what}: the crystallized function's tool API was revoked (${revoked}); nothing was sent`);
    if (run.signal.aborted) throw toLlmosError(run.signal.reason, 'ERR_ABORTED');
  };
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.catch(() => undefined).finally(() => pending.delete(p));
    return p;
  };
  const ctx = { ...opts.ctx, signal: run.signal };
  const runner = new StepRunner({ ...opts, ctx });
  const tools: ToolApi = Object.freeze({
    call: async (tool: string, args: Record<string, unknown>, options?: Parameters<ToolApi['call']>[2]) => {
      guard(tool);
      return track(runner.run({ name: tool, args }, (options ?? {}) as StepMeta));
    },
    precondition: async (check: Parameters<ToolApi['precondition']>[0]) => {
      guard('precondition');
      return track(runner.precondition(check as TraceCheck | TraceCheck[]));
    },
    signal: run.signal,
  });
  try {
    await fn(tools, params);
    if (run.signal.aborted) throw toLlmosError(run.signal.reason, 'ERR_ABORTED');
    return { ok: true, steps: runner.steps };
  } catch (e) {
    return { ok: false, steps: runner.steps, error: toLlmosError(e, 'ERR_STEP_FAILED') };
  } finally {
    revoked = run.signal.aborted ? 'its run was aborted' : 'its run ended';
    run.abort(new LlmosError('ERR_TOOL_REVOKED', 'the crystallized run ended'));
    opts.signal.removeEventListener('abort', onParent);
    offEstop();
    // Calls it started and did not await are aborted now; whatever they set moving stops below.
    await Promise.allSettled([...pending]);
    await runner.finish();
  }
}
