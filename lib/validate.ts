/**
 * JSON Schema validation with ajv, precompiled at build time (scripts/build-validators.mjs): each
 * schema in schemas/*.schema.json becomes a CommonJS module loaded the first time it is used, so
 * start-up pays only for the validators it needs. Errors name the failing field as a JSON
 * pointer and say what was expected, e.g. `/tool_calls/0/name: must be string`.
 *
 *   check('trace', doc)                 -> [] or [{ path, message }, ...]
 *   assertValid('config', doc, file, 'ERR_CONFIG_INVALID')
 *   check('tool_drive', args)           -> tool argument shapes from safety/tools/drive.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LlmosError, type ErrorCode } from './errors.js';
import { packagePath } from './paths.js';

export interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}

export interface ValidationIssue {
  /** JSON pointer of the failing field ('' = the whole document). */
  path: string;
  message: string;
}

const require = createRequire(import.meta.url);
// Absolute, so bundled entry points (dist/bin) find them too.
const validatorDir = packagePath('dist', 'lib', 'validators');
let index: Record<string, string> | undefined;
const loaded = new Map<string, CompiledValidator>();

/** The validator for a schema name: the camelCase file name (`edgeTrace`) or `tool_<name>`. */
export function getValidator(name: string): CompiledValidator {
  const cached = loaded.get(name);
  if (cached) return cached;
  index ??= JSON.parse(readFileSync(join(validatorDir, 'index.json'), 'utf8')) as Record<string, string>;
  const file = Object.hasOwn(index, name) ? index[name] : undefined;
  if (!file) throw new LlmosError('ERR_INTERNAL', `no compiled validator named "${name}"; run npm run build`);
  const mod = require(join(validatorDir, file)) as Record<string, CompiledValidator>;
  const v = mod[name.startsWith('tool_') ? name : 'validate'];
  if (!v) throw new LlmosError('ERR_INTERNAL', `validators/${file} does not export ${name}`);
  loaded.set(name, v);
  return v;
}

/** Validates and returns the issues (empty when valid). */
export function check(name: string, data: unknown): ValidationIssue[] {
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
      path = `${path}/${String(e.params['additionalProperty'])}`;
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
export function assertValid(name: string, data: unknown, where: string, code: ErrorCode): void {
  const issues = check(name, data);
  if (issues.length > 0) {
    throw new LlmosError(code, `${where}: ${describeIssues(issues)}`, { issues });
  }
}
