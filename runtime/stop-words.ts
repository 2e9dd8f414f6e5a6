/**
 * Built-in stop words (DESIGN.md "Execution modes"): "stop", "halt", "freeze", "stop moving",
 * "stop everything" stop motion at once as the operator's stop does; "emergency stop" / "e-stop"
 * engage the latched e-stop. They act ahead of the goal queue, from the command line, standard
 * input and MQTT cmd/execute alike, never match a trace, and no goal text releases an e-stop.
 */
import type { CallSource } from '../safety/gate.js';
import { classifyGoal } from './matcher/intent.js';
import { canonicalGoalText } from './matcher/goal-text.js';
import { splitParts } from './matcher/split.js';
import type { ExecutionResult } from './result.js';

export interface Stoppable {
  stopMotion(reason: string): Promise<void>;
  estop(reason?: string, source?: string): Promise<void>;
}

/** 'STOP' or 'ESTOP' when the goal is a stop word, else undefined. */
function stopWordOf(goal: string): 'STOP' | 'ESTOP' | undefined {
  const intent = classifyGoal(goal);
  return intent.kind === 'stop' ? (intent.estop ? 'ESTOP' : 'STOP') : undefined;
}

/**
 * A stop inside a multi-step goal ("stop, then turn around", "beep then e-stop"): the stop acts at
 * once and the rest is refused, so motion never runs on while the goal is turned down. A closing
 * "... then stop" is not one: every replay ends at rest. An e-stop anywhere engages.
 */
function embeddedStopOf(goal: string): 'STOP' | 'ESTOP' | undefined {
  const parts = splitParts(canonicalGoalText(goal).trim());
  if (parts.length < 2) return undefined;
  const kinds = parts.map(stopWordOf);
  if (kinds.includes('ESTOP')) return 'ESTOP';
  return kinds.slice(0, -1).includes('STOP') ? 'STOP' : undefined;
}

export interface StopRequest { mode: 'STOP' | 'ESTOP'; embedded: boolean }

/**
 * Every stop request that acts ahead of the queue: a stop word, a stop verb on a device with no
 * trace of its own (`modeOf` is the dispatcher's decision without a model), or a stop inside a
 * multi-step goal.
 */
export function stopRequestOf(goal: string, modeOf: (goal: string) => string): StopRequest | undefined {
  const intent = classifyGoal(goal);
  if (intent.kind === 'stop') return { mode: intent.estop ? 'ESTOP' : 'STOP', embedded: false };
  // "stop the arm": the board's own trace for it if there is one, else every motion stops.
  if (intent.kind === 'command' && intent.stopFallback && modeOf(goal) === 'STOP') return { mode: 'STOP', embedded: false };
  const embedded = embeddedStopOf(goal);
  return embedded ? { mode: embedded, embedded: true } : undefined;
}

export async function runStopWord(os: Stoppable, goal: string, mode: 'STOP' | 'ESTOP', options: { explain?: boolean; source?: CallSource; embedded?: boolean }): Promise<ExecutionResult> {
  const base: ExecutionResult = { goal, mode, trace: null, score: 0, params: {}, ok: true, llm_calls: 0, steps: [], duration_ms: 0 };
  const reason = mode === 'ESTOP' ? 'e-stop words: the latched e-stop engages (release it explicitly)' : 'stop word: all motion stops; new goals may run afterwards';
  if (options.explain) return { ...base, explain: true, reason: options.embedded ? `${reason} (a stop inside a multi-step goal acts at once; the rest is not run)` : reason };
  const started = performance.now();
  if (mode === 'ESTOP') await os.estop(`goal "${goal}"`, options.source ?? 'api');
  else await os.stopMotion(`stop word "${goal}" (${options.source ?? 'api'})`);
  const duration = Math.round((performance.now() - started) * 1000) / 1000;
  if (!options.embedded) return { ...base, reason, duration_ms: duration };
  const error = { code: 'ERR_NOT_A_COMMAND', message: `${mode === 'ESTOP' ? 'the e-stop engaged' : 'all motion stopped'} at once; the rest of "${goal}" was not run: a stop request acts alone (say the rest as its own goal)` };
  return { ...base, ok: false, reason, error, duration_ms: duration };
}
