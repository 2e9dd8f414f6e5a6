/**
 * Picks the execution mode for a goal (DESIGN.md "Execution modes"):
 *   CRYSTALLIZED  best match has a loaded crystallized function and qualifies for FOLLOWER
 *   FOLLOWER      score > follower threshold, every parameter bound, not ambiguous
 *   ORCHESTRATOR  "X then Y": every part decided on its own
 *   MIXED         mixed..follower threshold (LLM adapts the nearest trace)     [LLM only]
 *   LEARNER       nothing fits (full LLM tool loop)                            [LLM only]
 *   REFUSED       deterministic mode and nothing qualifies: names the nearest traces
 */
import { LlmosError } from '../lib/errors.js';
import type { ToolCall } from '../safety/gate.js';
import type { Candidate, Matcher } from './matcher/matcher.js';
import { instantiate } from './matcher/params.js';
import type { Mode, NearestTrace } from './result.js';
import type { Trace } from './trace-types.js';

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

const SPLIT_RE = /\s*(?:;|,?\s+and\s+then\s+|,?\s+then\s+|,\s*then\s*|,?\s+after\s+that,?\s+|,?\s+afterwards,?\s+|,?\s+followed\s+by\s+|\.\s+then\s+|\.\s+(?=[A-Za-z]))\s*/i;

/** "open the gripper, then raise the arm; beep" -> three parts. */
export function splitGoal(goal: string): string[] {
  const parts = goal.split(SPLIT_RE).map((p) => p.trim().replace(/^(?:first|firstly|then|and|finally|lastly|next)[,\s]+/i, '').replace(/[.;,]+$/, '').trim());
  return parts.filter((p) => p.length > 0);
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
    const trimmed = goal.trim();
    if (trimmed === '') {
      return { goal, mode: 'REFUSED', score: 0, params: {}, nearest: [], error: new LlmosError('ERR_NO_MATCH', 'the goal is empty') };
    }
    const whole = this.decideOne(trimmed, options);
    if (whole.mode === 'FOLLOWER' || whole.mode === 'CRYSTALLIZED' || options.split === false) return whole;
    const pieces = splitGoal(trimmed);
    if (pieces.length > 1) {
      const parts = pieces.map((p) => this.decideOne(p, options));
      const deterministic = parts.every((p) => p.mode === 'FOLLOWER' || p.mode === 'CRYSTALLIZED');
      const servable = deterministic || (options.allowLlm && parts.every((p) => p.mode !== 'REFUSED'));
      if (servable) {
        return { goal: trimmed, mode: 'ORCHESTRATOR', score: Math.min(...parts.map((p) => p.score)), params: {}, parts, nearest: [] };
      }
      if (!options.allowLlm) {
        const failing = parts.filter((p) => p.mode !== 'FOLLOWER' && p.mode !== 'CRYSTALLIZED');
        return {
          ...whole,
          mode: 'REFUSED',
          error: new LlmosError('ERR_NO_MATCH', `no learned trace fits ${failing.map((p) => `"${p.goal}"`).join(', ')} (part${failing.length > 1 ? 's' : ''} of a multi-step goal)${failing[0]?.nearest.length ? `; nearest for "${failing[0].goal}": ${describeNearest(failing[0].nearest)}` : ''}`),
          parts,
        };
      }
    }
    return whole;
  }

  private decideOne(goal: string, options: DispatchOptions): Decision {
    const { candidates } = this.matcher.match(goal, 5);
    const best = candidates[0];
    const nearest = nearestOf(candidates);
    const base = { goal, score: best?.score ?? 0, params: best?.params ?? {}, nearest };
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
    const message = best
      ? `no learned trace fits "${goal}" well enough to replay without an LLM; nearest: ${describeNearest(nearest)}`
      : `no learned trace fits "${goal}"; there are no traces with anything in common`;
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

function describeNearest(nearest: readonly NearestTrace[]): string {
  return nearest.map((n) => `"${n.goal_text}" (${n.score.toFixed(2)}${n.reasons?.length ? `: ${n.reasons[0]}` : ''})`).join(', ');
}
