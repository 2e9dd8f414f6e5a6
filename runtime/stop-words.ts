/**
 * Built-in stop words (DESIGN.md "Execution modes"): "stop", "halt", "freeze", "stop moving",
 * "stop everything" stop motion at once as the operator's stop does; "emergency stop" / "e-stop"
 * engage the latched e-stop. They act ahead of the goal queue, from the command line, standard
 * input and MQTT cmd/execute alike, never match a trace, and no goal text releases an e-stop.
 */
import type { CallSource } from '../safety/gate.js';
import { classifyGoal } from './matcher/intent.js';
import type { ExecutionResult } from './result.js';

export interface Stoppable {
  stopMotion(reason: string): Promise<void>;
  estop(reason?: string, source?: string): Promise<void>;
}

/** 'STOP' or 'ESTOP' when the goal is a stop word, else undefined. */
export function stopWordOf(goal: string): 'STOP' | 'ESTOP' | undefined {
  const intent = classifyGoal(goal);
  return intent.kind === 'stop' ? (intent.estop ? 'ESTOP' : 'STOP') : undefined;
}

/** True for a stop request on one device ("stop the arm"): a stop when no trace of the board fits it. */
export function mayBeDeviceStop(goal: string): boolean {
  const intent = classifyGoal(goal);
  return intent.kind === 'command' && intent.stopFallback === true;
}

export async function runStopWord(os: Stoppable, goal: string, mode: 'STOP' | 'ESTOP', options: { explain?: boolean; source?: CallSource }): Promise<ExecutionResult> {
  const base: ExecutionResult = { goal, mode, trace: null, score: 0, params: {}, ok: true, llm_calls: 0, steps: [], duration_ms: 0 };
  const reason = mode === 'ESTOP' ? 'e-stop words: the latched e-stop engages (release it explicitly)' : 'stop word: all motion stops; new goals may run afterwards';
  if (options.explain) return { ...base, explain: true, reason };
  const started = performance.now();
  if (mode === 'ESTOP') await os.estop(`goal "${goal}"`, options.source ?? 'api');
  else await os.stopMotion(`stop word "${goal}" (${options.source ?? 'api'})`);
  return { ...base, reason, duration_ms: Math.round((performance.now() - started) * 1000) / 1000 };
}
