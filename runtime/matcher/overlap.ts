/**
 * The overlap score of a goal against one trace model: a weighted Dice overlap of concepts where
 * goal concepts the trace's tools imply count as matched, and trace concepts its tools imply
 * weigh a tenth when the goal leaves them out (unless the goal names a device the tools do not
 * drive: then the trace's qualifier counts in full).
 */
import type { GoalAnalysis } from './analyze.js';
import type { SerializedModel, TraceModel } from './matcher.js';

/** How much a trace-side concept the goal leaves out counts when the trace's tools imply it. */
export const IMPLIED_SOFTNESS = 0.1;

/** A goal's concepts as parallel arrays: the hot loop reads them for every candidate. */
export interface GoalVector {
  ids: string[];
  weights: number[];
  total: number;
}

export function goalVector(goal: GoalAnalysis): GoalVector {
  return { ids: [...goal.concepts.keys()], weights: [...goal.concepts.values()], total: goal.total };
}

/** Concepts naming an actuator or device: a goal that names one the trace's tools do not touch names a qualifier. */
const DEVICE_NOUNS = new Set(['ARM', 'GRIPPER', 'LED', 'BUZZER', 'WINCH', 'SERIAL']);
const IN_TEXT = 1;
const SOFT = 2;
const IMPLIED = 4;
/** One lookup per goal concept: is it in the trace's text (and soft), or implied by its tools? */
function flagsOf(model: TraceModel): Map<string, number> {
  if (!model.flags) {
    const flags = new Map<string, number>();
    for (const c of model.analysis.concepts.keys()) flags.set(c, IN_TEXT | (model.soft.has(c) ? SOFT : 0));
    for (const c of model.implied) if (!flags.has(c)) flags.set(c, IMPLIED);
    model.flags = flags;
  }
  return model.flags;
}

/**
 * Concept overlap: 2M / (2M + goal-only + trace-only). Goal concepts the trace's tools imply
 * count as matched. Trace words its tools imply weigh a tenth when left out, but only once the
 * goal shares something substantive (weight >= 1) with the trace: "open" may mean "open the
 * gripper"; "move" alone does not mean "move the arm".
 */
export function overlapOf(goal: GoalAnalysis | GoalVector, model: TraceModel): number {
  const g = 'ids' in goal ? goal : goalVector(goal);
  const flags = flagsOf(model);
  let matched = 0;
  let common = 0;
  let commonSoft = 0;
  let strong = false;
  let qualified = false;
  for (let k = 0; k < g.ids.length; k++) {
    const id = g.ids[k] as string;
    const f = flags.get(id);
    if (f === undefined) continue;
    const w = g.weights[k] as number;
    matched += w;
    if (f & IN_TEXT) {
      common += w;
      commonSoft += f & SOFT ? w * IMPLIED_SOFTNESS : w;
      if (w >= 1 || common >= 1) strong = true;
      // "the led" of "turn on the controller led" is not the device its tools drive.
      if (f === IN_TEXT && DEVICE_NOUNS.has(id)) qualified = true;
    }
  }
  const goalOnly = Math.max(0, goal.total - matched);
  const traceOnly = strong && !qualified ? Math.max(0, model.softTotal - commonSoft) : Math.max(0, model.analysis.total - common);
  const denom = 2 * matched + goalOnly + traceOnly;
  return denom > 0 ? (2 * matched) / denom : 0;
}

export function serializedSoftTotal(s: SerializedModel | undefined): number {
  if (!s) return 0;
  const soft = new Set(s.soft);
  let t = 0;
  for (const [c, w] of s.concepts) t += soft.has(c) ? w * IMPLIED_SOFTNESS : w;
  return t;
}

export function softTotalOf(analysis: GoalAnalysis, soft: ReadonlySet<string>): number {
  let t = 0;
  for (const [c, w] of analysis.concepts) t += soft.has(c) ? w * IMPLIED_SOFTNESS : w;
  return t;
}

