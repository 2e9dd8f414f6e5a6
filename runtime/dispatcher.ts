/**
 * Picks the execution mode for a goal (DESIGN.md "Execution modes"):
 *   CRYSTALLIZED  best match has a loaded crystallized function and qualifies for FOLLOWER
 *   FOLLOWER      score > follower threshold, every parameter bound, not ambiguous
 *   ORCHESTRATOR  "X then Y": every part decided on its own
 *   MIXED         mixed..follower threshold (LLM adapts the nearest trace)     [LLM only]
 *   LEARNER       nothing fits (full LLM tool loop)                            [LLM only]
 *   REFUSED       deterministic mode and nothing qualifies: names the nearest traces
 *   STOP / ESTOP  a built-in stop word ("stop", "halt", "e-stop"): never a trace
 * Only imperatives replay: questions, statements and conditional goals are refused with
 * ERR_NOT_A_COMMAND (runtime/matcher/intent.ts). A multi-step goal is split first; the whole goal
 * wins over its parts only when it is exactly a trace's goal.
 */
import { LlmosError } from '../lib/errors.js';
import type { ToolCall } from '../safety/gate.js';
import type { Candidate, Matcher } from './matcher/matcher.js';
import { classifyGoal } from './matcher/intent.js';
import { canonicalGoalText } from './matcher/goal-text.js';
import { instantiate } from './matcher/params.js';
import { splitParts } from './matcher/split.js';
import type { Mode, NearestTrace } from './result.js';
import type { Trace } from './traces/types.js';

export interface Decision {
  goal: string;
  mode: Mode;
  score: number;
  params: Record<string, number>;
  candidate?: Candidate;
  /** FOLLOWER / CRYSTALLIZED: the tool calls with parameters bound. */
  calls?: ToolCall[];
  /** ORCHESTRATOR: one decision per part. */
  parts?: Decision[];
  nearest: NearestTrace[];
  reason?: string;
  /** The goal as read after typo corrections ("did you mean ..."). */
  didYouMean?: string;
  /** A question handed to the model: why its run may read sensors and state but move nothing. */
  readOnly?: string;
  error?: LlmosError;
}

export interface DispatchOptions {
  /** run-agentic-follower: MIXED and LEARNER are possible. */
  allowLlm: boolean;
  /** Sentience AUTO_CONTAINED: serve only learned patterns. */
  learnedOnly?: boolean;
  /** Split multi-step goals (off for the parts themselves). */
  split?: boolean;
}

export interface DispatcherConfig {
  followerThreshold: number;
  mixedThreshold: number;
  /** True when a current crystallized function exists for this trace. */
  hasCrystallized?: (trace: Trace) => boolean;
  /** A newly learned trace still on probation (runs MIXED, never replayed blind). */
  provisional?: (trace: Trace) => boolean;
  /**
   * Why these calls cannot run on this board (a tool or actuator it does not have), or
   * undefined. Checked before anything runs: a trace learned on another board must not move its
   * first actuators and then fail on a missing one.
   */
  misfit?: (calls: readonly ToolCall[]) => string | undefined;
}

/** "open the gripper, then raise the arm; beep" -> three parts ("X and Y" when both are commands). */
export function splitGoal(goal: string): string[] {
  return splitParts(goal);
}

export function nearestOf(candidates: readonly Candidate[], limit = 3): NearestTrace[] {
  return candidates.slice(0, limit).map((c) => ({
    trace: c.trace.goal_signature, goal_text: c.trace.goal_text, score: c.score,
    ...(c.reasons.length ? { reasons: c.reasons } : {}),
  }));
}

export class Dispatcher {
  private readonly matcher: Matcher;
  private readonly config: DispatcherConfig;

  constructor(matcher: Matcher, config: DispatcherConfig) {
    this.matcher = matcher;
    this.config = config;
  }

  decide(goal: string, options: DispatchOptions): Decision {
    const trimmed = canonicalGoalText(goal).trim();
    if (trimmed === '') {
      return { goal, mode: 'REFUSED', score: 0, params: {}, nearest: [], error: new LlmosError('ERR_NO_MATCH', 'the goal is empty') };
    }
    const intent = classifyGoal(trimmed);
    if (intent.kind === 'stop') {
      return { goal: trimmed, mode: intent.estop ? 'ESTOP' : 'STOP', score: 0, params: {}, nearest: [], reason: intent.estop ? 'built-in e-stop words: engage the latched e-stop' : 'built-in stop word: stop all motion' };
    }
    if (intent.kind === 'not_command') return this.notACommand(trimmed, intent.what, intent.why, options);
    if (intent.stopFallback) {
      // "stop the arm": the board's own trace for it if there is one, else every motion stops (never the model).
      const own = this.decideOne(trimmed, { ...options, allowLlm: false });
      if (own.mode === 'FOLLOWER' || own.mode === 'CRYSTALLIZED') return own;
      return { goal: trimmed, mode: 'STOP', score: 0, params: {}, nearest: own.nearest, reason: 'a stop request for one device with no trace of its own: all motion stops' };
    }
    const pieces = options.split === false ? [trimmed] : splitGoal(trimmed);
    // "drive forward 1 meter then stop": every replay ends at rest, so a closing stop adds nothing.
    let closingStop = false;
    while (pieces.length > 1 && stopKind(pieces[pieces.length - 1] as string) === 'STOP') { pieces.pop(); closingStop = true; }
    if (pieces.length <= 1) return closingStop ? { ...this.decideOne(pieces[0] as string, options), goal: trimmed } : this.decideOne(trimmed, options);
    // Split first: the whole goal wins only when it is exactly a trace's goal.
    const whole = this.decideOne(trimmed, options);
    if ((whole.mode === 'FOLLOWER' || whole.mode === 'CRYSTALLIZED' || whole.error?.code === 'ERR_TRACE_BOARD_MISMATCH') && whole.candidate?.exact) return whole;
    const parts = pieces.map((p) => this.decide(p, { ...options, split: false }));
    const deterministic = parts.every((p) => p.mode === 'FOLLOWER' || p.mode === 'CRYSTALLIZED');
    const servable = deterministic || (options.allowLlm && parts.every((p) => p.mode === 'FOLLOWER' || p.mode === 'CRYSTALLIZED' || p.mode === 'MIXED' || p.mode === 'LEARNER'));
    if (servable) {
      return { goal: trimmed, mode: 'ORCHESTRATOR', score: Math.min(...parts.map((p) => p.score)), params: {}, parts, nearest: [] };
    }
    const failing = parts.filter((p) => p.mode !== 'FOLLOWER' && p.mode !== 'CRYSTALLIZED' && p.mode !== 'MIXED' && p.mode !== 'LEARNER');
    const notCommand = failing.find((p) => p.error?.code === 'ERR_NOT_A_COMMAND');
    const stop = failing.find((p) => p.mode === 'STOP' || p.mode === 'ESTOP');
    const error = notCommand?.error ? new LlmosError('ERR_NOT_A_COMMAND', `part "${notCommand.goal}" of a multi-step goal: ${notCommand.error.message}`)
      : stop ? new LlmosError('ERR_NOT_A_COMMAND', `"${stop.goal}" is a stop word: say it alone to stop motion at once, not as a step of a goal`)
        : new LlmosError('ERR_NO_MATCH', `no learned trace fits ${failing.map((p) => `"${p.goal}"`).join(', ')} (part${failing.length > 1 ? 's' : ''} of a multi-step goal)${failing[0]?.nearest.length ? `; nearest for "${failing[0].goal}": ${describeNearest(failing[0].nearest)}` : ''}`);
    return { goal: trimmed, mode: 'REFUSED', score: whole.score, params: {}, nearest: failing[0]?.nearest ?? whole.nearest, parts, error };
  }

  /** Questions, statements and conditional goals: refused, or handed to the model (it may answer a question). */
  private notACommand(goal: string, what: string, why: string, options: DispatchOptions): Decision {
    const reason = `"${goal}" is not a command (${what}): ${why}`;
    if (options.allowLlm && !options.learnedOnly && (what === 'question' || what === 'information request')) {
      return { goal, mode: 'LEARNER', score: 0, params: {}, nearest: [], reason, readOnly: `"${goal}" is a ${what}: the model may read sensors and state to answer it, not move anything` };
    }
    return { goal, mode: 'REFUSED', score: 0, params: {}, nearest: [], reason, error: new LlmosError('ERR_NOT_A_COMMAND', reason) };
  }

  private decideOne(goal: string, options: DispatchOptions): Decision {
    const { candidates, goal: analysis } = this.matcher.match(goal, 5);
    const best = candidates[0];
    const nearest = nearestOf(candidates);
    const didYouMean = analysis.corrections ? corrected(goal, analysis.corrections) : undefined;
    const base = { goal, score: best?.score ?? 0, params: best?.params ?? {}, nearest, ...(didYouMean ? { didYouMean, reason: `did you mean "${didYouMean}"?` } : {}) };
    if (best && best.score > this.config.followerThreshold && best.reasons.length === 0) {
      const calls = instantiate(best.trace, best.model.slots, best.params);
      const misfit = this.config.misfit?.(calls);
      if (misfit) {
        const reason = `trace "${best.trace.goal_text}" does not fit this board: ${misfit}`;
        // The model may adapt the plan to the tools this board has; replaying it as is cannot.
        if (options.allowLlm && !options.learnedOnly) return { ...base, mode: 'MIXED', candidate: best, reason };
        return { ...base, mode: 'REFUSED', candidate: best, reason, error: new LlmosError('ERR_TRACE_BOARD_MISMATCH', reason) };
      }
      const rival = this.ambiguousWith(best, calls, candidates);
      if (!rival) {
        if (this.config.provisional?.(best.trace)) {
          // learning.promote_after: a new trace is confirmed by the model for its first uses.
          const reason = `trace "${best.trace.goal_text}" is new: the model confirms its plan for its first uses (learning.promote_after)`;
          if (options.allowLlm && !options.learnedOnly) return { ...base, mode: 'MIXED', candidate: best, reason };
          return { ...base, mode: 'REFUSED', candidate: best, reason, error: new LlmosError('ERR_NO_MATCH', `${reason}; run it with run-agentic-follower`) };
        }
        const mode: Mode = this.config.hasCrystallized?.(best.trace) ? 'CRYSTALLIZED' : 'FOLLOWER';
        return { ...base, mode, candidate: best, calls };
      }
      const reason = `ambiguous: "${best.trace.goal_text}" and "${rival.trace.goal_text}" fit equally well (${best.score}) but do different things`;
      if (!options.allowLlm || options.learnedOnly) {
        return { ...base, mode: 'REFUSED', candidate: best, reason, error: new LlmosError('ERR_NO_MATCH', `${reason}; rephrase the goal`) };
      }
      return { ...base, mode: 'MIXED', candidate: best, reason };
    }
    if (options.allowLlm && !options.learnedOnly) {
      if (best && best.score >= this.config.mixedThreshold) return { ...base, mode: 'MIXED', candidate: best };
      return { ...base, mode: 'LEARNER' };
    }
    const read = didYouMean ? ` (read as "${didYouMean}")` : '';
    const message = best
      ? `no learned trace fits "${goal}"${read} well enough to replay without an LLM; nearest: ${describeNearest(nearest)}`
      : `no learned trace fits "${goal}"${read}; there are no traces with anything in common`;
    return { ...base, mode: 'REFUSED', ...(best ? { candidate: best } : {}), error: new LlmosError('ERR_NO_MATCH', message) };
  }

  /** Another candidate just as good that would do something different. */
  private ambiguousWith(best: Candidate, calls: ToolCall[], candidates: readonly Candidate[]): Candidate | undefined {
    const key = JSON.stringify(calls);
    for (const c of candidates.slice(1)) {
      if (c.score < best.score - 0.02 || c.reasons.length > 0 || c.score <= this.config.followerThreshold) continue;
      if (best.exact && !c.exact) continue;
      if (JSON.stringify(instantiate(c.trace, c.model.slots, c.params)) !== key) return c;
    }
    return undefined;
  }
}

function stopKind(goal: string): 'STOP' | 'ESTOP' | undefined {
  const intent = classifyGoal(goal);
  return intent.kind === 'stop' ? (intent.estop ? 'ESTOP' : 'STOP') : undefined;
}

/** The goal with its typos replaced: "opne the gripper" -> "open the gripper". */
function corrected(goal: string, corrections: ReadonlyArray<{ from: string; to: string }>): string {
  let out = goal.toLowerCase();
  for (const c of corrections) out = out.replace(new RegExp(`\\b${c.from}\\b`), c.to);
  return out;
}

function describeNearest(nearest: readonly NearestTrace[]): string {
  return nearest.map((n) => `"${n.goal_text}" (${n.score.toFixed(2)}${n.reasons?.length ? `: ${n.reasons[0]}` : ''})`).join(', ');
}
