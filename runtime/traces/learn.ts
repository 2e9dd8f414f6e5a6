/**
 * Learning: a successful LLM run becomes a trace, so the same goal (or a paraphrase) is served
 * next time by the follower with no LLM call. The goal's numbers that appear, in a compatible
 * unit, as arguments become declared parameters with "{{name}}" templates: a trace learned from
 * "drive forward 2 meters" serves "drive forward 3 meters".
 */
import type { ToolCall } from '../../safety/gate.js';
import { analyzeGoal, goalSignature } from '../matcher/analyze.js';
import type { QuantityKind } from '../matcher/lexicon.js';
import { buildSlots, type UnitLookup } from '../matcher/params.js';
import type { Trace, TraceParameter } from './types.js';

/** The unit name a parameter is declared with, from its kind and scale to base units. */
function unitName(kind: QuantityKind, toBase: number): string | undefined {
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;
  switch (kind) {
    case 'length': return near(toBase, 1) ? 'm' : near(toBase, 0.01) ? 'cm' : near(toBase, 0.001) ? 'mm' : undefined;
    case 'angle': return near(toBase, 1) ? 'deg' : undefined;
    case 'time': return near(toBase, 1) ? 's' : near(toBase, 0.001) ? 'ms' : undefined;
    case 'fraction': return near(toBase, 1) ? 'fraction' : near(toBase, 0.01) ? 'percent' : undefined;
    case 'count': return 'count';
    default: return undefined;
  }
}

function template(name: string, scale: number): string {
  if (scale === 1) return `{{${name}}}`;
  if (scale === -1) return `{{-${name}}}`;
  return `{{${name}*${scale}}}`;
}

export interface LearnedTraceInfo {
  model: string;
  mode: 'MIXED' | 'LEARNER';
  llmCalls: number;
  at: Date;
  from?: string;
}

export function traceFromRun(goal: string, calls: readonly ToolCall[], unitsFor: UnitLookup, info: LearnedTraceInfo): Trace {
  const draft: Trace = {
    goal_signature: goalSignature(goal), goal_text: goal, success_rate: 1, usage_count: 1,
    tool_calls: calls.map((c) => ({ name: c.name, args: structuredClone(c.args) })),
  };
  const { slots } = buildSlots(draft, analyzeGoal(goal), unitsFor);
  const parameters: Record<string, TraceParameter> = {};
  for (const slot of slots.values()) {
    const unit = unitName(slot.kind, slot.toBase);
    if (slot.occurrences.length === 0 || unit === undefined) continue;
    parameters[slot.name] = { kind: slot.kind, unit, description: `from the goal's number (learned)` };
    for (const o of slot.occurrences) {
      const step = draft.tool_calls[o.step];
      if (step) step.args[o.arg] = template(slot.name, o.scale);
    }
  }
  const at = info.at.toISOString();
  return {
    ...draft,
    ...(Object.keys(parameters).length ? { parameters } : {}),
    success_count: 1,
    created_at: at,
    last_used: at,
    origin: info.mode === 'MIXED' ? 'mixed' : 'learned',
    metadata: { learned_by: info.model, mode: info.mode, llm_calls: info.llmCalls, ...(info.from ? { adapted_from: info.from } : {}) },
  };
}
