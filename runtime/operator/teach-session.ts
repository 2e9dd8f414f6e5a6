/**
 * A teaching session on a running device (MQTT cmd/teach): while it records, every call the gate
 * executes for an operator (cmd/call, `:call` on standard input) is added to the demonstration.
 * One session per runtime; the recorder turns it into a taught trace on save.
 */
import { LlmosError } from '../../lib/errors.js';
import { unitLookup } from '../../safety/tools/index.js';
import type { ToolCall } from '../../safety/gate.js';
import type { LLMOS } from '../llmos.js';
import type { Trace, TraceRecord } from '../traces/types.js';
import { assertGoalFree, TeachRecorder } from './teach.js';

interface Session { recorder: TeachRecorder; stop: (() => void) | undefined }

const sessions = new WeakMap<LLMOS, Session>();

function need(os: LLMOS): Session {
  const s = sessions.get(os);
  if (!s) throw new LlmosError('ERR_USAGE', 'no teaching session: start one first (cmd/teach {"action":"start","goal":"..."})');
  return s;
}

export function startTeaching(os: LLMOS, goal: string): void {
  const running = sessions.get(os);
  if (running) throw new LlmosError('ERR_USAGE', `a teaching session for "${running.recorder.goal}" is open: save or discard it first`);
  const recorder = new TeachRecorder(goal);
  assertGoalFree(os.traces, goal);
  // The audit record of an executed operator call: what the gate let through, as it ran it.
  const stop = os.gate.events.on('decision', (d) => {
    if (d.source !== 'operator' || (d.decision !== 'allow' && d.decision !== 'clamp')) return;
    if (d.args && typeof d.args === 'object') recorder.add({ name: d.tool, args: { ...(d.args as Record<string, unknown>) } });
  });
  sessions.set(os, { recorder, stop });
}


/** The calls recorded so far in the open session (empty when none is open). */
export function teachingCalls(os: LLMOS): readonly ToolCall[] {
  return sessions.get(os)?.recorder.recorded ?? [];
}

/** Forgets the last recorded call of the open session (the operator's :undo). */
export function undoTeaching(os: LLMOS): ToolCall | undefined {
  return sessions.get(os)?.recorder.undo();
}

/** Ends recording; the session stays until saved or discarded. */
export function stopTeaching(os: LLMOS): { goal: string; calls: number; trace: Trace } {
  const s = need(os);
  // Checked first: an empty demonstration keeps recording, so the operator can still make calls.
  if (s.recorder.recorded.length === 0) throw new LlmosError('ERR_USAGE', `nothing was recorded for "${s.recorder.goal}" yet: make at least one call (cmd/call) before stop or save; the session keeps recording`);
  s.stop?.();
  s.stop = undefined;
  return { goal: s.recorder.goal, calls: s.recorder.recorded.length, trace: s.recorder.toTrace(unitLookup(os.catalog), os.clock.wallNow()) };
}

export async function saveTeaching(os: LLMOS): Promise<TraceRecord> {
  const { goal, calls, trace } = stopTeaching(os);
  const rec = await os.traces.save(trace, `Taught by demonstration for "${goal}" (${calls} call${calls === 1 ? '' : 's'}).`);
  os.matcher.upsert(rec);
  sessions.delete(os);
  return rec;
}

export function discardTeaching(os: LLMOS): { goal: string; calls: number } {
  const s = need(os);
  s.stop?.();
  sessions.delete(os);
  return { goal: s.recorder.goal, calls: s.recorder.recorded.length };
}
