/**
 * Teach by demonstration: the calls an operator made through the gate (jog keys, `:call` lines,
 * MQTT cmd/call) recorded as a trace. Numbers in the goal text that equal a recorded argument
 * become parameters (the same binding learning uses), so a trace taught as "raise the arm to 120
 * degrees" also serves "raise the arm to 100 degrees". Only calls the gate executed are recorded,
 * with the arguments it executed; a held jog key arrives as many small calls and is coalesced
 * into one call of its whole distance, angle or duration.
 */
import { classifyGoal } from '../matcher/intent.js';
import { LlmosError } from '../../lib/errors.js';
import type { ToolCall } from '../../safety/gate.js';
import { traceFromRun } from '../traces/learn.js';
import { goalSignature } from '../matcher/analyze.js';
import type { TraceStore } from '../traces/store.js';
import type { UnitLookup } from '../matcher/params.js';
import type { Trace } from '../traces/types.js';

export interface RecordedCall extends ToolCall {
  /** Part of a held key: merges with the call before it when both are the same motion. */
  held?: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The argument that accumulates while a key is held, by tool. Others must stay equal to merge. */
const ACCUMULATES: Readonly<Record<string, { arg: string; sum: boolean }>> = {
  drive: { arg: 'distance_m', sum: true },
  turn: { arg: 'degrees', sum: true },
  wait: { arg: 'ms', sum: true },
  motor_set: { arg: 'duration_ms', sum: true },
  servo_move: { arg: 'angle', sum: false },
  pwm_write: { arg: 'duty', sum: false },
};

function sameExcept(a: Record<string, unknown>, b: Record<string, unknown>, skip: string): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete(skip);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

/** Merges a held call into the previous one when it continues the same motion. */
function merge(prev: ToolCall, next: ToolCall): ToolCall | undefined {
  if (prev.name !== next.name) return undefined;
  const rule = ACCUMULATES[prev.name];
  if (!rule || !sameExcept(prev.args, next.args, rule.arg)) return undefined;
  const a = num(prev.args[rule.arg]);
  const b = num(next.args[rule.arg]);
  if (a === undefined || b === undefined) return undefined;
  // A reversal (forward then back) is two motions, not one shorter one.
  if (rule.sum && Math.sign(a) !== Math.sign(b) && a !== 0 && b !== 0) return undefined;
  const value = rule.sum ? Number((a + b).toFixed(6)) : b;
  return { name: prev.name, args: { ...prev.args, [rule.arg]: value } };
}

export class TeachRecorder {
  private readonly calls: ToolCall[] = [];
  readonly goal: string;

  constructor(goal: string) {
    this.goal = goal;
    if (goal.trim() === '') throw new LlmosError('ERR_USAGE', 'teach needs the goal the demonstration is for, e.g. llmos teach "raise the arm to 120 degrees"');
    // Refused before anything moves: a trace for a question, a condition or a stop word would never replay.
    const intent = classifyGoal(goal);
    if (intent.kind === 'stop') throw new LlmosError('ERR_NOT_A_COMMAND', `"${goal}" is a built-in stop request: it stops motion at once and never replays a trace; teach a command (e.g. "stop the winch" for one device)`);
    if (intent.kind === 'not_command') throw new LlmosError('ERR_NOT_A_COMMAND', `"${goal}" is not a command (${intent.what}): ${intent.why}; a taught trace would never run`);
  }

  /** Records one executed call (a plain copy: the caller's object may change afterwards). */
  add(call: RecordedCall): void {
    const plain: ToolCall = { name: call.name, args: structuredClone({ ...call.args }) };
    const last = this.calls.at(-1);
    const merged = call.held && last ? merge(last, plain) : undefined;
    if (merged) this.calls[this.calls.length - 1] = merged;
    else this.calls.push(plain);
  }

  /** Takes back the last recorded call (the operator's undo). */
  undo(): ToolCall | undefined {
    return this.calls.pop();
  }

  get recorded(): readonly ToolCall[] {
    return this.calls;
  }

  /** The trace this demonstration makes; ERR_USAGE when nothing was recorded. */
  toTrace(unitsFor: UnitLookup, at: Date = new Date()): Trace {
    if (this.calls.length === 0) throw new LlmosError('ERR_USAGE', `nothing was recorded for "${this.goal}": make at least one call (":call <tool> name=value ...") before saving`);
    const learned = traceFromRun(this.goal, this.calls, unitsFor, { model: 'operator', mode: 'LEARNER', llmCalls: 0, at });
    const { metadata: _metadata, ...rest } = learned;
    return { ...rest, origin: 'taught', metadata: { taught_at: at.toISOString(), calls: this.calls.length } };
  }
}

/**
 * Refuses, before the operator demonstrates anything, a goal whose trace already exists: saving
 * never replaces a trace, and finding out after the robot has done the whole demonstration is late.
 */
export function assertGoalFree(store: TraceStore, goal: string): void {
  const existing = store.get(goalSignature(goal));
  if (existing) throw new LlmosError('ERR_TRACE_CONFLICT', `a trace for "${existing.trace.goal_text}" already exists in ${existing.file}; it is not replaced (remove it first with llmos traces rm, or teach another wording)`);
}
