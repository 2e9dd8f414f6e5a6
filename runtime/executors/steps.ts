/**
 * Runs the steps of one run through the safety gate: each with its checks and its on_error
 * policy (retry / skip / fail), recording a StepResult per step. The follower's replay and a
 * crystallized function's tool API both drive one of these, so a step behaves the same whether
 * it comes from a trace file or from generated code.
 */
import type { Clock } from '../../lib/clock.js';
import { isRetryable, LlmosError, toLlmosError } from '../../lib/errors.js';
import type { CallContext, SafetyGate, ToolCall } from '../../safety/gate.js';
import type { StepResult } from '../result.js';
import type { OnErrorPolicy, TraceCheck, TraceStep } from '../traces/types.js';
import { runChecks } from './checks.js';

export interface StepRunnerOptions {
  gate: SafetyGate;
  clock: Clock;
  ctx: CallContext;
  workspace: string;
  onStep?: (step: StepResult) => void;
}

/** What a step may carry besides its tool call. */
export type StepMeta = Pick<TraceStep, 'check' | 'on_error' | 'retries'>;

interface Policy { action: 'fail' | 'skip' | 'retry'; retries: number; delayMs: number; message?: string }

function policyOf(step: StepMeta): Policy {
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
  return isRetryable(e.code);
}

export class StepRunner {
  readonly steps: StepResult[] = [];
  private readonly opts: StepRunnerOptions;

  constructor(opts: StepRunnerOptions) {
    this.opts = opts;
  }

  /** Checks a precondition before anything moves; throws ERR_CHECK_FAILED (or the check's code). */
  async precondition(checks: TraceCheck | readonly TraceCheck[] | undefined): Promise<void> {
    try {
      await runChecks(checks ? (Array.isArray(checks) ? [...checks] : [checks as TraceCheck]) : undefined, undefined, this.checkEnv());
    } catch (e) {
      const err = toLlmosError(e, 'ERR_CHECK_FAILED');
      throw new LlmosError(err.code, `precondition failed: ${err.message}`);
    }
  }

  /**
   * Runs one step. Resolves with the tool's result (undefined when a failed step was skipped);
   * rejects with a coded error naming the step when its policy says fail.
   */
  async run(call: ToolCall, meta: StepMeta = {}): Promise<unknown> {
    const { gate, clock, ctx } = this.opts;
    const index = this.steps.length;
    const policy = policyOf(meta);
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
        await runChecks(meta.check, r.value, this.checkEnv());
        last = undefined;
        break;
      } catch (e) {
        last = toLlmosError(e, 'ERR_STEP_FAILED');
        if (!retryable(last) || attempts > policy.retries) break;
        if (policy.delayMs > 0) await clock.sleep(policy.delayMs, ctx.signal);
      }
    }
    const step: StepResult = { index, tool: call.name, args: call.args, ok: last === undefined, attempts, duration_ms: Math.round((clock.now() - started) * 1000) / 1000 };
    if (value !== undefined) step.value = value;
    if (adjusted.length > 0) step.adjusted = adjusted;
    if (last) step.error = { code: last.code, message: last.message };
    const skipped = last !== undefined && policy.action === 'skip' && retryable(last);
    if (skipped) step.skipped = true;
    this.steps.push(step);
    this.opts.onStep?.(step);
    if (last && !skipped) {
      const why = policy.message ? `${policy.message}: ` : '';
      throw new LlmosError(last.code, `step ${index + 1} (${call.name}) failed: ${why}${last.message}`);
    }
    return skipped ? undefined : value;
  }

  /** The run is over: whatever it left moving stops now. */
  async finish(): Promise<void> {
    await this.opts.gate.endRun(this.opts.ctx.runId);
  }

  private checkEnv(): { gate: SafetyGate; ctx: CallContext; workspace: string } {
    return { gate: this.opts.gate, ctx: this.opts.ctx, workspace: this.opts.workspace };
  }
}
