/**
 * Per-step checks and preconditions. A check reads a sensor through the gate ({sensor, min,
 * max, equals}) or inspects the step's own result ({min, max, equals, matches}, or the upstream
 * validation types). An unknown check type fails: a check that cannot be evaluated has not
 * passed.
 */
import { stat } from 'node:fs/promises';
import { LlmosError } from '../../lib/errors.js';
import type { CallContext, SafetyGate } from '../../safety/gate.js';
import { confinePath } from '../../safety/system-tools.js';
import { safeRegex } from '../safe-regex.js';
import type { TraceCheck } from '../traces/types.js';

export interface CheckEnv {
  gate: SafetyGate;
  ctx: CallContext;
  workspace: string;
}

function outputOf(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return result;
  const r = result as Record<string, unknown>;
  for (const k of ['value', 'reply', 'stdout', 'content']) if (r[k] !== undefined) return r[k];
  return result;
}

function compare(value: unknown, c: TraceCheck, what: string): void {
  if (c.min !== undefined || c.max !== undefined) {
    if (typeof value !== 'number') throw new LlmosError('ERR_CHECK_FAILED', `${what}: expected a number, got ${JSON.stringify(value)}`);
    if (c.min !== undefined && value < c.min) throw new LlmosError('ERR_CHECK_FAILED', `${what}: ${value} is below ${c.min}`);
    if (c.max !== undefined && value > c.max) throw new LlmosError('ERR_CHECK_FAILED', `${what}: ${value} is above ${c.max}`);
  }
  if (c.equals !== undefined && value !== c.equals) throw new LlmosError('ERR_CHECK_FAILED', `${what}: expected ${JSON.stringify(c.equals)}, got ${JSON.stringify(value)}`);
  // Linear-time matching on bounded input: a trace's pattern can never block the event loop.
  if (c.matches !== undefined && !matchesSafely(c.matches, String(value ?? ''), what)) {
    throw new LlmosError('ERR_CHECK_FAILED', `${what}: ${JSON.stringify(value)} does not match /${c.matches}/`);
  }
}

function matchesSafely(pattern: string, value: string, what: string): boolean {
  try {
    return safeRegex(pattern).test(value);
  } catch (e) {
    throw new LlmosError('ERR_CHECK_FAILED', `${what}: ${(e as Error).message}`);
  }
}

export async function runCheck(c: TraceCheck, result: unknown, env: CheckEnv): Promise<void> {
  const label = c.description ?? c.check ?? c.condition ?? 'check';
  if (c.sensor !== undefined) {
    const r = await env.gate.call({ name: 'sensor_read', args: { sensor: c.sensor } }, env.ctx);
    compare((r.value as { value?: unknown }).value, c, `${label} (${c.sensor})`);
    return;
  }
  const type = c.type ?? c.validation_type;
  const p = c.parameters ?? {};
  switch (type) {
    case undefined:
      compare(outputOf(result), c, label);
      return;
    case 'content_contains': {
      const s = String(outputOf(result) ?? '');
      if (!s.includes(String(p['substring'] ?? ''))) throw new LlmosError('ERR_CHECK_FAILED', `${label}: output does not contain ${JSON.stringify(p['substring'])}`);
      return;
    }
    case 'content_not_empty':
      if (String(outputOf(result) ?? '').trim() === '') throw new LlmosError('ERR_CHECK_FAILED', `${label}: output is empty`);
      return;
    case 'command_exit_code': {
      const code = (result as { exit_code?: number } | undefined)?.exit_code ?? 0;
      const expected = (p['expected'] as number | undefined) ?? 0;
      if (code !== expected) throw new LlmosError('ERR_CHECK_FAILED', `${label}: exit code ${code}, expected ${expected}`);
      return;
    }
    case 'file_exists':
    case 'directory_exists':
    case 'file_size_minimum': {
      const path = await confinePath(env.workspace, String(p['path'] ?? ''));
      const st = await stat(path).catch(() => undefined);
      if (!st) throw new LlmosError('ERR_CHECK_FAILED', `${label}: ${String(p['path'])} does not exist`);
      if (type === 'directory_exists' && !st.isDirectory()) throw new LlmosError('ERR_CHECK_FAILED', `${label}: ${String(p['path'])} is not a directory`);
      if (type === 'file_size_minimum' && st.size < Number(p['min_bytes'] ?? 0)) throw new LlmosError('ERR_CHECK_FAILED', `${label}: ${String(p['path'])} has ${st.size} bytes, fewer than ${String(p['min_bytes'])}`);
      return;
    }
    default:
      throw new LlmosError('ERR_CHECK_FAILED', `${label}: unknown check type "${type}"; it cannot be evaluated, so it did not pass`);
  }
}

export async function runChecks(checks: TraceCheck | TraceCheck[] | undefined, result: unknown, env: CheckEnv): Promise<void> {
  if (!checks) return;
  for (const c of Array.isArray(checks) ? checks : [checks]) await runCheck(c, result, env);
}
