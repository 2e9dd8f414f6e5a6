/**
 * Checks a model's successful run before it becomes a trace. "The tools succeeded" is not proof
 * the run did what the goal says: a model can drive backward for "drive forward", turn clockwise
 * for "turn left", or wait 5,000 times. A run is saved only when
 *   - its calls agree with the goal's critical words (forward/backward, left/right, open/close,
 *     on/off, from the matcher's own analysis of the goal),
 *   - it stays under a cap on steps and on total duration (learning.max_steps, max_duration_ms),
 *   - it did something (not only waits and tool searches);
 * and its parameters are kept only when every number in the goal binds to an argument and each
 * parameter gets finite bounds from its argument's declared range (the actuator's range, the
 * tool's schema, and the sign the critical words demand); otherwise the trace is saved with the
 * literal values and no parameters.
 */
import type { BoardProfile } from '../../drivers/types.js';
import type { ToolCall } from '../../safety/gate.js';
import type { ToolDefinition } from '../../safety/tools/index.js';
import { analyzeGoal, type GoalAnalysis } from '../matcher/analyze.js';
import { classifyGoal } from '../matcher/intent.js';
import type { StepResult } from '../result.js';
import { parseTemplate } from '../matcher/params.js';
import type { Trace, TraceParameter } from './types.js';

export interface LearningConfig {
  /** Most tool calls a learned run may have. */
  max_steps: number;
  /** Longest a learned run may take (measured, and declared waits/durations). */
  max_duration_ms: number;
  /** A new trace runs in MIXED (the model confirms the plan) for its first N uses; 0 = off. */
  promote_after: number;
}

export const DEFAULT_LEARNING: LearningConfig = { max_steps: 50, max_duration_ms: 120000, promote_after: 0 };

export interface LearnCheckEnv {
  profile: BoardProfile;
  catalog: ReadonlyMap<string, ToolDefinition>;
  config: LearningConfig;
}

export type LearnVerdict = { ok: true; trace: Trace; notes: string[] } | { ok: false; reason: string };

type Sign = 1 | -1;

/** The sign an argument must have for a pole of a critical word, per tool. */
const SIGNED: ReadonlyArray<{ cls: string; pole: string; tool: string; arg: string; sign: Sign; word: string }> = [
  { cls: 'FB', pole: 'F', tool: 'drive', arg: 'distance_m', sign: 1, word: 'forward' },
  { cls: 'FB', pole: 'B', tool: 'drive', arg: 'distance_m', sign: -1, word: 'backward' },
  { cls: 'LR', pole: 'L', tool: 'turn', arg: 'degrees', sign: 1, word: 'left (counter-clockwise)' },
  { cls: 'LR', pole: 'R', tool: 'turn', arg: 'degrees', sign: -1, word: 'right (clockwise)' },
];

/** The pole of a class the goal names, when it names exactly one. */
function onePole(a: GoalAnalysis, cls: string): string | undefined {
  const poles = a.polarity.get(cls);
  return poles && poles.size === 1 ? [...poles][0] : undefined;
}

/** "0 = open, 80 = closed" in an actuator's description: the angles of its open and closed ends. */
function openClose(description: string | undefined): { open: number; closed: number } | undefined {
  if (!description) return undefined;
  const open = /(-?\d+(?:\.\d+)?)\s*=\s*open/i.exec(description)?.[1];
  const closed = /(-?\d+(?:\.\d+)?)\s*=\s*clos/i.exec(description)?.[1];
  return open !== undefined && closed !== undefined ? { open: Number(open), closed: Number(closed) } : undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Why the calls contradict the goal's critical words, or undefined. */
export function criticalWordConflict(goal: string, calls: readonly ToolCall[], profile: BoardProfile, analysis = analyzeGoal(goal)): string | undefined {
  for (const [i, c] of calls.entries()) {
    for (const rule of SIGNED) {
      if (c.name !== rule.tool || onePole(analysis, rule.cls) !== rule.pole) continue;
      const v = num(c.args[rule.arg]);
      if (v !== undefined && Math.sign(v) === -rule.sign) return `the goal says ${rule.word}, but step ${i + 1} ${c.name} has ${rule.arg} ${v}`;
    }
    const oc = onePole(analysis, 'OC');
    if (oc && c.name === 'servo_move' && typeof c.args['actuator'] === 'string') {
      const ends = openClose(profile.actuators.get(c.args['actuator'])?.description);
      const angle = num(c.args['angle']);
      if (ends && angle !== undefined) {
        const towardsOpen = Math.abs(angle - ends.open) < Math.abs(angle - ends.closed);
        const towardsClosed = Math.abs(angle - ends.closed) < Math.abs(angle - ends.open);
        if (oc === 'O' && towardsClosed) return `the goal says open, but step ${i + 1} moves ${String(c.args['actuator'])} to ${angle} (closed is ${ends.closed})`;
        if (oc === 'C' && towardsOpen) return `the goal says close, but step ${i + 1} moves ${String(c.args['actuator'])} to ${angle} (open is ${ends.open})`;
      }
    }
    const act = onePole(analysis, 'ACT');
    if (act && c.name === 'digital_write' && typeof c.args['value'] === 'boolean') {
      const v = c.args['value'];
      // A blink ends where it started; only the last write says what the goal asked for.
      const last = calls.map((x, k) => [x, k] as const).filter(([x]) => x.name === 'digital_write' && x.args['actuator'] === c.args['actuator']).at(-1)?.[1];
      if (last === i && ((act === 'ON' && v === false) || (act === 'OFF' && v === true))) return `the goal says ${act.toLowerCase()}, but step ${i + 1} leaves ${String(c.args['actuator'])} ${v ? 'on' : 'off'}`;
    }
  }
  return undefined;
}

/** Declared ms a call takes on its own (waits, timed motor runs). */
function declaredMs(c: ToolCall): number {
  if (c.name === 'wait') return num(c.args['ms']) ?? 0;
  if (c.name === 'motor_set') return num(c.args['duration_ms']) ?? 0;
  return 0;
}

/** [min, max] an argument may take: the tool's schema, the actuator's range, the critical words' sign. */
function argRange(c: ToolCall, arg: string, env: LearnCheckEnv, analysis: GoalAnalysis): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  const prop = env.catalog.get(c.name)?.parameters.properties[arg] as { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number } | undefined;
  if (prop) {
    lo = Math.max(lo, prop.minimum ?? prop.exclusiveMinimum ?? -Infinity);
    hi = Math.min(hi, prop.maximum ?? prop.exclusiveMaximum ?? Infinity);
  }
  const spec = typeof c.args['actuator'] === 'string' ? env.profile.actuators.get(c.args['actuator']) : undefined;
  const ranged: Record<string, string> = { servo_move: 'angle', pwm_write: 'duty', motor_set: 'speed' };
  if (spec && Object.hasOwn(ranged, c.name) && ranged[c.name] === arg) {
    lo = Math.max(lo, spec.range[0]);
    hi = Math.min(hi, spec.range[1]);
  }
  for (const rule of SIGNED) {
    if (rule.tool !== c.name || rule.arg !== arg || onePole(analysis, rule.cls) !== rule.pole) continue;
    if (rule.sign > 0) lo = Math.max(lo, 0); else hi = Math.min(hi, 0);
  }
  return [lo, hi];
}

const PARAM_KINDS = new Set(['length', 'angle', 'time', 'fraction', 'count', 'number']);

/**
 * The literal value of every templated argument, from the run's own calls. The goal's numbers
 * are pinned to the values learned (minimum = maximum, no argument takes them): the matcher
 * would otherwise infer a parameter again from a literal that happens to equal a goal number,
 * and "juggle five oranges" would drive 5 m.
 */
function withoutParameters(trace: Trace, calls: readonly ToolCall[], analysis: GoalAnalysis): Trace {
  const { parameters: _dropped, ...rest } = trace;
  const pinned: Record<string, TraceParameter> = {};
  analysis.quantities.filter((q) => !q.implicit).forEach((q, i) => {
    const kind = PARAM_KINDS.has(q.kind) ? q.kind as TraceParameter['kind'] : 'number';
    pinned[`goal_number_${i + 1}`] = { kind, minimum: q.base, maximum: q.base, description: 'a number in the goal that no argument takes: pinned to the learned value' };
  });
  return {
    ...rest,
    ...(Object.keys(pinned).length ? { parameters: pinned } : {}),
    tool_calls: trace.tool_calls.map((s, i) => ({ ...s, args: structuredClone(calls[i]?.args ?? s.args) })),
  };
}

/**
 * Checks a learned run; returns the trace to save (maybe without parameters, always with bounds
 * on the ones it keeps) or the reason it must not be saved.
 */
export function checkLearnedRun(goal: string, calls: readonly ToolCall[], steps: readonly StepResult[], draft: Trace, env: LearnCheckEnv): LearnVerdict {
  const { config } = env;
  // A question the model answered is no behaviour to replay ("is the gripper open?" never runs as a command).
  const intent = classifyGoal(goal);
  if (intent.kind !== 'command') return { ok: false, reason: `"${goal}" is not a command (${intent.kind === 'stop' ? 'a stop request' : intent.what})` };
  if (calls.length > config.max_steps) return { ok: false, reason: `${calls.length} steps, over learning.max_steps (${config.max_steps})` };
  const measured = steps.reduce((t, s) => t + (s.duration_ms ?? 0), 0);
  const declared = calls.reduce((t, c) => t + declaredMs(c), 0);
  const duration = Math.max(measured, declared);
  if (duration > config.max_duration_ms) return { ok: false, reason: `it takes ${Math.round(duration)} ms, over learning.max_duration_ms (${config.max_duration_ms})` };
  const effective = calls.filter((c) => !['wait', 'search_tools'].includes(c.name) && env.catalog.has(c.name));
  if (effective.length === 0) return { ok: false, reason: 'it did nothing but wait or search for tools' };
  const analysis = analyzeGoal(goal);
  const conflict = criticalWordConflict(goal, calls, env.profile, analysis);
  if (conflict) return { ok: false, reason: conflict };

  const notes: string[] = [];
  const params = draft.parameters ?? {};
  if (Object.keys(params).length === 0) return { ok: true, trace: draft, notes };
  const drop = (why: string): LearnVerdict => {
    notes.push(`saved without parameters: ${why}`);
    return { ok: true, trace: withoutParameters(draft, calls, analysis), notes };
  };
  // Every number in the goal must bind to an argument; a number that binds to nothing (or a
  // count of things, "three oranges", bound to a measurement) is not a parameter.
  const bound = new Set<string>();
  for (const s of draft.tool_calls) for (const v of Object.values(s.args ?? {})) { const t = parseTemplate(v); if (t) bound.add(t.name); }
  const explicit = analysis.quantities.filter((q) => !q.implicit);
  if (explicit.length !== bound.size) return drop(`the goal has ${explicit.length} number(s) and ${bound.size} bind to an argument`);
  const counted = countedNumbers(goal);
  for (const q of explicit) if (q.kind === 'number' && counted.has(q.value)) return drop(`"${q.value}" counts things in the goal, it is not a measurement`);
  const bounded: Record<string, TraceParameter> = {};
  for (const [name, p] of Object.entries(params)) {
    let lo = -Infinity;
    let hi = Infinity;
    draft.tool_calls.forEach((s, i) => {
      for (const [arg, v] of Object.entries(s.args ?? {})) {
        const t = parseTemplate(v);
        if (!t || t.name !== name || t.scale === 0) continue;
        const call = calls[i] as ToolCall;
        const [alo, ahi] = argRange(call, arg, env, analysis);
        const a = alo / t.scale;
        const b = ahi / t.scale;
        lo = Math.max(lo, Math.min(a, b));
        hi = Math.min(hi, Math.max(a, b));
      }
    });
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) return drop(`parameter ${name} would have no finite bounds`);
    bounded[name] = { ...p, minimum: roundBound(lo), maximum: roundBound(hi) };
  }
  return { ok: true, trace: { ...draft, parameters: bounded }, notes };
}

function roundBound(x: number): number {
  return Number(x.toPrecision(12));
}

const WORDS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20,
  a: 1, an: 1,
};
/** Words after a number that do not make it a count of things ("to 90 and", "90 then"). */
const NOT_A_NOUN = new Set(['and', 'then', 'please', 'now', 'again', 'or', 'to', 'at', 'for', 'with', 'by', 'of', 'more', 'less', 'times', 'time', 'x']);

/** Unitless numbers followed by a noun ("three oranges", "2 boxes"): counts of things. */
function countedNumbers(goal: string): Set<number> {
  const tokens = goal.toLowerCase().split(/[^a-z0-9.]+/).filter(Boolean);
  const out = new Set<number>();
  tokens.forEach((t, i) => {
    const v = /^\d+(\.\d+)?$/.test(t) ? Number(t) : Object.hasOwn(WORDS, t) && t !== 'a' && t !== 'an' ? WORDS[t] : undefined;
    const next = tokens[i + 1];
    if (v !== undefined && next !== undefined && /^[a-z]+$/.test(next) && !NOT_A_NOUN.has(next)) out.add(v);
  });
  return out;
}

/** Marks a new trace provisional: MIXED (the model confirms the plan) for its first `n` uses. */
export function withPromotion(trace: Trace, n: number): Trace {
  if (!(n > 0)) return trace;
  return { ...trace, metadata: { ...(trace.metadata ?? {}), promote_after: n } };
}

/** Still provisional: learned with promote_after N and used (the learning run included) at most N times. */
export function isProvisional(trace: Trace): boolean {
  const n = (trace.metadata as Record<string, unknown> | undefined)?.['promote_after'];
  return typeof n === 'number' && n > 0 && trace.usage_count <= n;
}
