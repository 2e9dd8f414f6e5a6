/**
 * JSON Schema validation with ajv, precompiled at build time (scripts/build-validators.mjs) so
 * that start-up on a Pi pays no compile cost. Errors name the failing field as a JSON pointer
 * and say what was expected, e.g. `/tool_calls/0/name: must be string`.
 */
import * as generated from './generated-validators.js';
import type { AjvError, CompiledValidator } from './generated-validators.js';
import { LlmosError, type ErrorCode } from './errors.js';

const validators = generated as unknown as Record<string, CompiledValidator | undefined>;

export type SchemaName = string;

export interface ValidationIssue {
  /** JSON pointer of the failing field ('' = the whole document). */
  path: string;
  message: string;
}

export function getValidator(name: SchemaName): CompiledValidator {
  const v = validators[name];
  if (!v) throw new LlmosError('ERR_INTERNAL', `no compiled validator named "${name}"; run npm run build`);
  return v;
}

/** Validates and returns the issues (empty when valid). */
export function check(name: SchemaName, data: unknown): ValidationIssue[] {
  const v = getValidator(name);
  if (v(data)) return [];
  return formatErrors(v.errors ?? []);
}

export function formatErrors(errors: readonly AjvError[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  // oneOf/anyOf report every branch; keep the most specific message per path.
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const extra = String(e.params['additionalProperty']);
      path = `${path}/${extra}`;
      message = 'is not a known field';
    } else if (e.keyword === 'required') {
      path = `${path}/${String(e.params['missingProperty'])}`;
      message = 'is required';
    } else if (e.keyword === 'enum') {
      const allowed = e.params['allowedValues'];
      message = `must be one of ${Array.isArray(allowed) ? allowed.map((a) => JSON.stringify(a)).join(', ') : 'the allowed values'}`;
    } else if (e.keyword === 'propertyNames') {
      message = `has an invalid name ${JSON.stringify(e.params['propertyName'])}`;
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  if (issues.length === 0 && errors.length > 0) {
    const e = errors[0] as AjvError;
    issues.push({ path: e.instancePath, message: e.message ?? 'is invalid' });
  }
  return issues;
}

export function describeIssues(issues: readonly ValidationIssue[], limit = 5): string {
  const shown = issues.slice(0, limit).map((i) => `${i.path || '(document)'}: ${i.message}`);
  if (issues.length > limit) shown.push(`... and ${issues.length - limit} more`);
  return shown.join('; ');
}

/** Throws a coded error naming `where` (a file, a topic) and the failing fields. */
export function assertValid(name: SchemaName, data: unknown, where: string, code: ErrorCode): void {
  const issues = check(name, data);
  if (issues.length > 0) {
    throw new LlmosError(code, `${where}: ${describeIssues(issues)}`, { issues });
  }
}
