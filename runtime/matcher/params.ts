/**
 * Parameters: the numbers of a goal that a trace can take as arguments. A trace declares them
 * (`parameters:` plus "{{name}}" in args) or they are inferred: a quantity in the trace's goal
 * text that appears, in a compatible unit, as an argument ("drive forward 1 meter" with
 * drive {distance_m: 1}) becomes a parameter. A number that is not a parameter is a literal:
 * a goal with a different number never replays the trace.
 */
import type { ArgUnit } from '../../safety/tools/index.js';
import type { Trace } from '../traces/types.js';
import { analyzeGoal, type GoalAnalysis, type Quantity } from './analyze.js';
import { UNITS, type QuantityKind } from './lexicon.js';

export type UnitLookup = (tool: string, arg: string) => ArgUnit | undefined;

export interface ParamOccurrence {
  step: number;
  arg: string;
  /** argument = scale * parameter value */
  scale: number;
}

export interface ParamSlot {
  name: string;
  kind: QuantityKind;
  /** Multiply the parameter value by this to get base units (m, deg, s, fraction). */
  toBase: number;
  default?: number;
  minimum?: number;
  maximum?: number;
  explicit: boolean;
  occurrences: ParamOccurrence[];
}

export interface TraceQuantity {
  q: Quantity;
  slot?: string;
}

export interface Binding {
  params: Record<string, number>;
  /** Why the binding is incomplete; empty when every number fits. */
  issues: string[];
}

const TEMPLATE_RE = /^\{\{\s*(-)?\s*([a-z][a-z0-9_]*)\s*(?:\*\s*([-+]?(?:\d+\.?\d*|\.\d+)))?\s*\}\}$/;

export function parseTemplate(value: unknown): { name: string; scale: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TEMPLATE_RE.exec(value);
  if (!m) return undefined;
  return { name: m[2] as string, scale: (m[1] ? -1 : 1) * (m[3] !== undefined ? Number(m[3]) : 1) };
}

const KIND_BY_UNIT: Record<string, { kind: QuantityKind; toBase: number }> = {
  fraction: { kind: 'fraction', toBase: 1 }, count: { kind: 'count', toBase: 1 }, number: { kind: 'number', toBase: 1 },
};

function unitInfo(unit: string | undefined): { kind: QuantityKind; toBase: number } | undefined {
  if (!unit) return undefined;
  return UNITS[unit] ?? KIND_BY_UNIT[unit];
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Kinds a goal quantity may bind to: equal kinds; a bare number takes the trace's unit. */
export function compatible(goal: Quantity, kind: QuantityKind): boolean {
  return goal.kind === kind || goal.kind === 'number' || kind === 'number';
}

function uniqueName(base: string, taken: ReadonlyMap<string, unknown>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Declared parameters plus the quantities of the goal text, linked to arguments. */
export function buildSlots(trace: Trace, analysis: GoalAnalysis, unitsFor: UnitLookup): { slots: Map<string, ParamSlot>; quantities: TraceQuantity[] } {
  const slots = new Map<string, ParamSlot>();
  for (const [name, p] of Object.entries(trace.parameters ?? {})) {
    const info = unitInfo(p.unit);
    const slot: ParamSlot = { name, kind: p.kind ?? info?.kind ?? 'number', toBase: info?.toBase ?? 1, explicit: true, occurrences: [] };
    if (p.default !== undefined) slot.default = p.default;
    if (p.minimum !== undefined) slot.minimum = p.minimum;
    if (p.maximum !== undefined) slot.maximum = p.maximum;
    slots.set(name, slot);
  }
  trace.tool_calls.forEach((step, i) => {
    for (const [arg, value] of Object.entries(step.args ?? {})) {
      const t = parseTemplate(value);
      if (!t) continue;
      let slot = slots.get(t.name);
      if (!slot) {
        const u = unitsFor(step.name, arg);
        slot = { name: t.name, kind: u?.kind === 'angular_speed' ? 'number' : (u?.kind ?? 'number'), toBase: u ? 1 / u.fromSi : 1, explicit: true, occurrences: [] };
        slots.set(t.name, slot);
      }
      slot.occurrences.push({ step: i, arg, scale: t.scale });
    }
  });

  const quantities: TraceQuantity[] = analysis.quantities.map((q) => ({ q }));
  const linked = new Set<string>();
  for (const tq of quantities) {
    if (tq.q.implicit) continue;
    const slot = [...slots.values()].find((s) => s.explicit && !linked.has(s.name) && compatible(tq.q, s.kind));
    if (slot) { tq.slot = slot.name; linked.add(slot.name); }
  }

  // Inference: literal numeric arguments equal to a goal-text quantity in a compatible unit.
  const claimed = new Set<string>();
  const unlinked = quantities.filter((tq) => tq.slot === undefined && !tq.q.implicit);
  const dupes = new Map<string, number>();
  for (const tq of unlinked) { const k = `${tq.q.kind}:${tq.q.base}`; dupes.set(k, (dupes.get(k) ?? 0) + 1); }
  for (const tq of unlinked) {
    const shared = (dupes.get(`${tq.q.kind}:${tq.q.base}`) ?? 0) > 1;
    let slot: ParamSlot | undefined;
    trace.tool_calls.forEach((step, i) => {
      for (const [arg, value] of Object.entries(step.args ?? {})) {
        if (typeof value !== 'number' || claimed.has(`${i}.${arg}`)) continue;
        if (shared && slot && slot.occurrences.length > 0) return;
        const u = unitsFor(step.name, arg);
        const m = matchArg(tq.q, value, u, arg);
        if (!m) continue;
        if (!slot) {
          slot = { name: uniqueName(arg, slots), kind: m.kind, toBase: m.toBase, explicit: false, occurrences: [] };
          slots.set(slot.name, slot);
        }
        if (!near(slot.toBase, m.toBase)) continue;
        slot.occurrences.push({ step: i, arg, scale: m.scale });
        claimed.add(`${i}.${arg}`);
      }
    });
    if (slot) tq.slot = slot.name;
  }
  return { slots, quantities };
}

function matchArg(q: Quantity, value: number, u: ArgUnit | undefined, arg: string): { kind: QuantityKind; toBase: number; scale: number } | undefined {
  const sign = (x: number): number => (x < 0 ? -1 : 1);
  if (u && u.kind !== 'angular_speed' && u.kind !== 'number') {
    const kind = u.kind;
    if (q.kind === kind) {
      const expected = q.base * u.fromSi;
      if (near(Math.abs(value), Math.abs(expected))) return { kind, toBase: 1 / u.fromSi, scale: sign(value) * sign(expected) };
      return undefined;
    }
    // A bare number in the goal text ("set the arm to 90") binds to an argument with the same value.
    if (q.kind === 'number' && !/speed/.test(arg) && near(Math.abs(value), Math.abs(q.value))) {
      return { kind, toBase: 1 / u.fromSi, scale: sign(value) * sign(q.value) };
    }
    return undefined;
  }
  if (u?.kind === 'angular_speed' || /speed/.test(arg)) return undefined;
  // Tools without unit metadata: only the same number, in the unit written in the goal.
  if (near(Math.abs(value), Math.abs(q.value))) return { kind: q.kind, toBase: q.toBase, scale: sign(value) * sign(q.value) };
  return undefined;
}

function fmt(q: Quantity): string {
  return q.unit ? `${q.value} ${q.unit}` : String(q.value);
}

/** Binds a goal's quantities to a trace's parameters and literals. */
export function bindQuantities(goal: GoalAnalysis, quantities: readonly TraceQuantity[], slots: ReadonlyMap<string, ParamSlot>): Binding {
  const params: Record<string, number> = {};
  const issues: string[] = [];
  const used = new Set<number>();
  for (const tq of quantities) {
    const slot = tq.slot ? slots.get(tq.slot) : undefined;
    const kind = slot?.kind ?? tq.q.kind;
    const gi = goal.quantities.findIndex((g, i) => !used.has(i) && compatible(g, kind) && (slot || compatible(g, tq.q.kind)));
    if (gi < 0) {
      if (slot) {
        if (slot.default !== undefined) params[slot.name] = slot.default;
        else issues.push(`the goal gives no value for ${slot.name} (the trace used ${fmt(tq.q)})`);
      } else {
        issues.push(`the goal lacks the number ${fmt(tq.q)} that the trace needs`);
      }
      continue;
    }
    used.add(gi);
    const g = goal.quantities[gi] as Quantity;
    if (g.forExtent && kind === 'fraction') {
      issues.push(`"for ${fmt(g)}" is an extent, not a level to set`);
      continue;
    }
    if (slot) {
      const base = g.kind === 'number' ? g.value * (tq.q.kind === 'number' ? slot.toBase : tq.q.toBase) : g.base;
      const value = Number((base / slot.toBase).toPrecision(12));
      if (slot.minimum !== undefined && value < slot.minimum) issues.push(`${slot.name} ${value} is below its minimum ${slot.minimum}`);
      else if (slot.maximum !== undefined && value > slot.maximum) issues.push(`${slot.name} ${value} is above its maximum ${slot.maximum}`);
      else params[slot.name] = value;
    } else {
      const base = g.kind === 'number' ? g.value * tq.q.toBase : g.base;
      if (!near(base, tq.q.base)) issues.push(`the number ${fmt(g)} differs from the trace's ${fmt(tq.q)}, which is not a parameter`);
    }
  }
  goal.quantities.forEach((g, i) => {
    if (!used.has(i)) issues.push(`the number ${fmt(g)} has no place in this trace`);
  });
  for (const slot of slots.values()) {
    if (Object.hasOwn(params, slot.name) || quantities.some((tq) => tq.slot === slot.name)) continue;
    if (slot.default !== undefined) params[slot.name] = slot.default;
    else if (slot.occurrences.length > 0) issues.push(`parameter ${slot.name} has no value and no default`);
  }
  return { params, issues };
}

/** The trace's tool calls with parameters substituted. */
export function instantiate(trace: Trace, slots: ReadonlyMap<string, ParamSlot>, params: Readonly<Record<string, number>>): Array<{ name: string; args: Record<string, unknown> }> {
  const calls = trace.tool_calls.map((s) => ({ name: s.name, args: { ...(s.args ?? {}) } }));
  for (const slot of slots.values()) {
    // Own properties only: a parameter named "constructor" must not find Object.prototype's.
    const value = Object.hasOwn(params, slot.name) ? params[slot.name] : undefined;
    if (value === undefined) continue;
    for (const o of slot.occurrences) {
      const call = calls[o.step];
      if (call) call.args[o.arg] = Number((o.scale * value).toPrecision(12));
    }
  }
  return calls;
}

export { analyzeGoal };
