/**
 * One trace document -> a TraceRecord: validated against schemas/trace.schema.json, or imported
 * from the upstream edge format first. Errors name the file and the field (ERR_TRACE_INVALID).
 */
import { LlmosError } from '../../lib/errors.js';
import { check, describeIssues } from '../../lib/validate.js';
import { goalSignature } from '../matcher/analyze.js';
import type { TraceLoadIssue } from './cache.js';
import { assertTracePatterns } from './patterns.js';
import type { Trace, TraceRecord, TraceStep } from './types.js';

const SIG_RE = /^[0-9a-f]{16}$/;

interface RawEdgeStep {
  step?: number;
  description?: string;
  tool_call: { tool: string; parameters?: Record<string, unknown> };
  validation?: Array<Record<string, unknown>>;
  on_error?: unknown;
}

interface RawEdgeTrace {
  trace_id: string;
  goal_signature?: string;
  goal_text?: string;
  goal?: string;
  description?: string;
  success_rate?: number;
  usage_count?: number;
  created_at?: string;
  last_used?: string;
  preconditions?: Array<Record<string, unknown>>;
  steps: RawEdgeStep[];
}

function isEdgeFormat(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && 'steps' in doc && !('tool_calls' in doc);
}

/** Upstream edge trace -> core trace. */
export function importEdgeTrace(raw: RawEdgeTrace): Record<string, unknown> {
  const text = raw.goal_text ?? raw.goal
    ?? (raw.goal_signature && !SIG_RE.test(raw.goal_signature) ? raw.goal_signature : undefined)
    ?? raw.description ?? raw.trace_id.replace(/[-_]+/g, ' ');
  const steps = [...raw.steps].sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
  const tool_calls = steps.map((s) => {
    const call: Record<string, unknown> = { name: s.tool_call.tool, args: s.tool_call.parameters ?? {} };
    if (s.description) call['description'] = s.description;
    if (s.validation?.length) call['check'] = s.validation.map((v) => pick(v, ['check', 'type', 'parameters', 'description']));
    if (s.on_error !== undefined) call['on_error'] = s.on_error;
    return call;
  });
  const out: Record<string, unknown> = {
    goal_text: text,
    trace_id: raw.trace_id,
    success_rate: raw.success_rate ?? 1,
    usage_count: raw.usage_count ?? 0,
    origin: 'imported',
    tool_calls,
  };
  if (raw.created_at) out['created_at'] = raw.created_at;
  if (raw.last_used) out['last_used'] = raw.last_used;
  if (raw.description) out['description'] = raw.description;
  if (raw.preconditions?.length) out['preconditions'] = raw.preconditions.map((p) => pick(p, ['condition', 'validation_type', 'parameters', 'type', 'sensor', 'min', 'max']));
  return out;
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** Parses and validates one trace document; throws ERR_TRACE_INVALID naming the field. */
export function parseTraceDocument(doc: unknown, file: string): { record: TraceRecord; warnings: TraceLoadIssue[] } {
  const warnings: TraceLoadIssue[] = [];
  let format: TraceRecord['format'] = 'core';
  let body = doc;
  if (isEdgeFormat(doc)) {
    const issues = check('edgeTrace', doc);
    if (issues.length > 0) throw new LlmosError('ERR_TRACE_INVALID', `${file}: ${describeIssues(issues)}`, { issues });
    body = importEdgeTrace(doc as RawEdgeTrace);
    format = 'edge';
  }
  const issues = check('trace', body);
  if (issues.length > 0) throw new LlmosError('ERR_TRACE_INVALID', `${file}: ${describeIssues(issues)}`, { issues });
  const t = body as Trace & { goal_signature?: string };
  assertTracePatterns(t, file);
  const computed = goalSignature(t.goal_text);
  if (t.goal_signature && t.goal_signature !== computed) {
    warnings.push({ file, code: 'ERR_TRACE_INVALID', message: `${file}: goal_signature ${t.goal_signature} does not match goal_text (expected ${computed}); using ${computed}` });
  }
  const trace: Trace = {
    ...t,
    goal_signature: computed,
    success_rate: t.success_rate ?? 1,
    usage_count: t.usage_count ?? 0,
    tool_calls: t.tool_calls.map((c): TraceStep => ({ ...c, args: c.args ?? {} })),
  };
  return { record: { trace, file, format }, warnings };
}

