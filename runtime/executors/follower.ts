/**
 * FOLLOWER: programmatic tool calling (PTC). Replays a trace's tool calls, with parameters bound,
 * through the safety gate, one by one, with per-step checks and the step's on_error policy
 * (retry / skip / fail). No LLM is involved. The run's heartbeat keeps its own motions alive
 * between steps; when the run ends, anything it left moving is stopped.
 */
import type { Clock } from '../../lib/clock.js';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import type { CallContext, SafetyGate, ToolCall } from '../../safety/gate.js';
import type { StepResult } from '../result.js';
import type { OnErrorPolicy, TraceCheck, TraceStep } from '../trace-types.js';
import { runChecks } from './checks.js';

export interface ReplayOptions {
  gate: SafetyGate;
  clock: Clock;
  ctx: CallContext;
  workspace: string;
  onStep?: (step: StepResult) => void;
}

export interface ReplayResult {
  ok: boolean;
  steps: StepResult[];
  error?: LlmosError;
}

function policyOf(step: Pick<TraceStep, 'on_error' | 'retries'>): { action: 'fail' | 'skip' | 'retry'; retries: number; delayMs: number; message?: string } {
  const raw = step.on_error;
  const p: OnErrorPolicy = typeof raw === 'string' ? { action: raw } : raw ?? { action: step.retries ? 'retry' : 'fail' };
  const action = p.action === 'human_escalate' ? 'fail' : p.action;
  const retries = action === 'retry' ? (p.retry_count ?? step.retries ?? 1) : 0;
  const delayMs = p.delay_ms ?? (p.delay_seconds !== undefined ? p.delay_seconds * 1000 : 0);
  const message = p.escalation_message ?? p.error_message;
  return { action, retries, delayMs, ...(message ? { message } : {}) };
}

/** Errors that retrying cannot fix: the safety layer said no, or the run was stopped. */
function retryable(e: LlmosError): boolean {
  return !(e.code.startsWith('ERR_SAFETY') || ['ERR_ESTOP_ENGAGED', 'ERR_ABORTED', 'ERR_TOOL_UNKNOWN', 'ERR_TOOL_ARGS', 'ERR_TOOL_DISABLED',
    'ERR_ACTUATOR_UNKNOWN', 'ERR_SENSOR_UNKNOWN', 'ERR_HOOK_BLOCKED', 'ERR_CONFIRM_DENIED', 'ERR_BUDGET_EXCEEDED'].includes(e.code));
}

export async function replay(
  calls: readonly ToolCall[],
  meta: ReadonlyArray<Pick<TraceStep, 'check' | 'on_error' | 'retries'>>,
  preconditions: readonly TraceCheck[] | undefined,
  opts: ReplayOptions,
): Promise<ReplayResult> {
  const { gate, clock, ctx } = opts;
  const steps: StepResult[] = [];
  const checkEnv = { gate, ctx, workspace: opts.workspace };
  try {
    try {
      await runChecks(preconditions ? [...preconditions] : undefined, undefined, checkEnv);
    } catch (e) {
      const err = toLlmosError(e, 'ERR_CHECK_FAILED');
      return { ok: false, steps, error: new LlmosError(err.code, `precondition failed: ${err.message}`) };
    }
    for (const [index, call] of calls.entries()) {
      const policy = policyOf(meta[index] ?? {});
      const started = clock.now();
      let attempts = 0;
      let last: LlmosError | undefined;
      let value: unknown;
      let adjusted: string[] = [];
      while (attempts <= policy.retries) {
        attempts++;
        gate.refresh(ctx.runId);
        try {
          const r = await gate.call(call, ctx);
          value = r.value;
          adjusted = r.adjusted;
          await runChecks(meta[index]?.check, r.value, checkEnv);
          last = undefined;
          break;
        } catch (e) {
          last = toLlmosError(e, 'ERR_STEP_FAILED');
          if (!retryable(last) || attempts > policy.retries) break;
          if (policy.delayMs > 0) await clock.sleep(policy.delayMs, ctx.signal);
        }
      }
      const step: StepResult = { index, tool: call.name, args: call.args, ok: last === undefined, attempts, duration_ms: round(clock.now() - started) };
      if (value !== undefined) step.value = value;
      if (adjusted.length > 0) step.adjusted = adjusted;
      if (last) {
        step.error = { code: last.code, message: last.message };
        if (policy.action === 'skip' && retryable(last)) {
          step.skipped = true;
          steps.push(step);
          opts.onStep?.(step);
          continue;
        }
        steps.push(step);
        opts.onStep?.(step);
        const why = policy.message ? `${policy.message}: ` : '';
        return { ok: false, steps, error: new LlmosError(last.code, `step ${index + 1} (${call.name}) failed: ${why}${last.message}`) };
      }
      steps.push(step);
      opts.onStep?.(step);
    }
    return { ok: true, steps };
  } finally {
    await gate.endRun(ctx.runId);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
