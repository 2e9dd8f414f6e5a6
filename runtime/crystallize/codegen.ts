/**
 * Turns a proven trace into a TypeScript function: one exported async function whose parameters
 * are the trace's parameters and which acts only through the ToolApi it is passed. The code is
 * plain, erasable-syntax TypeScript, so a board runs it after stripping types, without a compiler.
 */
import { fastHash } from '../../lib/hash.js';
import { TOOL_UNITS } from '../../safety/tools/index.js';
import { analyzeGoal } from '../matcher/analyze.js';
import { buildSlots, type ParamSlot } from '../matcher/params.js';
import type { Trace } from '../traces/types.js';

/**
 * Recorded in every generated file. A file is trusted when it is exactly what this version
 * emits for its trace (runtime/crystallize/trust.ts); bump it whenever the output changes.
 */
export const GENERATOR_VERSION = 'llmos-codegen/2';

/** Lines at the top of a generated file that carry provenance (date, source, run counts) only. */
export const FREE_HEADER_LINES = 2;

/**
 * The parameter slots the generator uses for a trace. Units are the base tools' (the same on
 * every board), so the same trace always yields the same code: the trust check regenerates it.
 */
export function slotsFor(trace: Trace): Map<string, ParamSlot> {
  return buildSlots(trace, analyzeGoal(trace.goal_text), (tool, arg) => TOOL_UNITS[tool]?.[arg]).slots;
}

export interface GeneratedFunction {
  /** Exported function name. */
  name: string;
  /** File name inside the crystallized directory. */
  fileName: string;
  code: string;
  traceHash: string;
}

const hashes = new WeakMap<Trace, string>();

/**
 * Identifies the trace content a function was generated from; a changed trace is not served by
 * it. Run statistics are not part of it, so it is computed once per loaded trace.
 */
export function traceHash(trace: Trace): string {
  let h = hashes.get(trace);
  if (h === undefined) {
    h = fastHash(JSON.stringify([trace.goal_text, trace.tool_calls, trace.parameters ?? null, trace.preconditions ?? null]));
    hashes.set(trace, h);
  }
  return h;
}

const RESERVED = new Set(['break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'export', 'extends', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'return', 'super', 'switch', 'this', 'throw', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'enum', 'await', 'implements', 'package', 'protected', 'interface', 'private', 'public']);

/** camelCase of the goal; numbers that become parameters are left out of the name. */
export function functionNameFor(goal: string, withoutNumbers = false): string {
  const words = goal.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim().split(' ').filter((w) => w && !(withoutNumbers && /^\d+$/.test(w))).slice(0, 8);
  let name = words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('') || 'crystallized';
  if (!/^[a-z_]/.test(name)) name = `run${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  return RESERVED.has(name) ? `${name}Goal` : name;
}

export function fileNameFor(goal: string, signature: string): string {
  const slug = goal.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'trace';
  return `${slug}-${signature.slice(0, 8)}.ts`;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A readable TypeScript literal for JSON-like data. */
function literal(value: unknown, indent = ''): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return /[\r\n\u2028\u2029]/.test(value) ? JSON.stringify(value) : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, indent)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, v]) => `${IDENT.test(k) ? k : JSON.stringify(k)}: ${literal(v, indent)}`).join(', ')} }`;
  }
  return 'undefined';
}

function paramExpression(name: string, scale: number): string {
  const ref = `params.${name}`;
  if (scale === 1) return ref;
  if (scale === -1) return `-${ref}`;
  // Rounded exactly as the trace replay rounds (instantiate), so both send the same value.
  return `Number((${ref} * ${scale}).toPrecision(12))`;
}

/** Text for a // comment: no line terminator may end the comment early. */
function commentText(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

function describeSlot(slot: ParamSlot, trace: Trace): string {
  const declared = trace.parameters?.[slot.name];
  const parts = [declared?.description, slot.kind !== 'number' ? slot.kind : undefined,
    slot.minimum !== undefined || slot.maximum !== undefined ? `${slot.minimum ?? '-inf'}..${slot.maximum ?? 'inf'}` : undefined,
    slot.default !== undefined ? `default ${slot.default}` : undefined].filter(Boolean);
  return parts.join(', ');
}

export function generateCrystallized(
  trace: Trace,
  slots: ReadonlyMap<string, ParamSlot>,
  info: { at: Date; source: string },
): GeneratedFunction {
  const used = [...slots.values()].filter((s) => s.occurrences.length > 0);
  const name = functionNameFor(trace.goal_text, used.length > 0);
  const typeName = `${name.charAt(0).toUpperCase()}${name.slice(1)}Params`;
  const byArg = new Map<string, { name: string; scale: number }>();
  for (const s of used) for (const o of s.occurrences) byArg.set(`${o.step}.${o.arg}`, { name: s.name, scale: o.scale });

  const lines: string[] = [];
  const hash = traceHash(trace);
  // The first FREE_HEADER_LINES lines are provenance only; everything after them is a function
  // of the trace alone.
  lines.push(commentText(`// Crystallized from trace ${JSON.stringify(trace.goal_text)} (goal_signature ${trace.goal_signature}, ${info.source})`));
  lines.push(commentText(`// on ${info.at.toISOString()}, after ${trace.usage_count} runs with ${Math.round(trace.success_rate * 100)}% success.`));
  lines.push('// Generated code: it acts only through the ToolApi it is passed, so every call passes the');
  lines.push('// safety gate. To change the behaviour, edit the trace and crystallize it again.');
  lines.push(`import type { ToolApi } from '../runtime/crystallized-api.js';`);
  lines.push('');
  lines.push(`export const signature = '${trace.goal_signature}';`);
  lines.push(`export const traceHash = '${hash}';`);
  lines.push(`export const generator = '${GENERATOR_VERSION}';`);
  lines.push('');
  if (used.length > 0) {
    lines.push(`export interface ${typeName} {`);
    for (const s of used) {
      const doc = describeSlot(s, trace);
      if (doc) lines.push(`  /** ${doc} */`);
      lines.push(`  ${s.name}: number;`);
    }
    lines.push('}');
    lines.push('');
  }
  const signatureParams = used.length > 0 ? `tools: ToolApi, params: ${typeName}` : 'tools: ToolApi';
  lines.push(`export async function ${name}(${signatureParams}): Promise<void> {`);
  if (trace.preconditions?.length) lines.push(`  await tools.precondition(${literal(trace.preconditions)});`);
  trace.tool_calls.forEach((step, i) => {
    const args = Object.entries(step.args ?? {}).map(([k, v]) => {
      const p = byArg.get(`${i}.${k}`);
      return `${IDENT.test(k) ? k : JSON.stringify(k)}: ${p ? paramExpression(p.name, p.scale) : literal(v)}`;
    });
    const options: Record<string, unknown> = {};
    if (step.check !== undefined) options['check'] = step.check;
    if (step.on_error !== undefined) {
      // The replay retries `retries` times when on_error says retry without a count: say so.
      const policy = typeof step.on_error === 'string' ? { action: step.on_error } : { ...step.on_error };
      if (policy.action === 'retry' && policy.retry_count === undefined && step.retries) options['on_error'] = { ...policy, retry_count: step.retries };
      else options['on_error'] = step.on_error;
    } else if (step.retries) options['on_error'] = { action: 'retry', retry_count: step.retries };
    const opt = Object.keys(options).length > 0 ? `, ${literal(options)}` : '';
    if (step.description) lines.push(`  // ${commentText(step.description)}`);
    lines.push(`  await tools.call(${literal(step.name)}, ${args.length ? `{ ${args.join(', ')} }` : '{}'}${opt});`);
  });
  lines.push('}');
  lines.push('');
  return { name, fileName: fileNameFor(trace.goal_text, trace.goal_signature), code: lines.join('\n'), traceHash: hash };
}
