/**
 * Load-time check of the regular expressions in a trace (`matches` in preconditions and step
 * checks): each must compile for the linear-time matcher (safe-regex.ts). A trace with a
 * pattern it cannot run (a backreference, lookaround, or one too large) is reported with its file
 * and field and not loaded, instead of failing, or hanging, when the step runs.
 */
import { LlmosError } from '../../lib/errors.js';
import { compileSafeRegex } from '../safe-regex.js';
import type { Trace, TraceCheck } from './types.js';

function checksOf(raw: TraceCheck | TraceCheck[] | undefined, at: string): Array<[string, TraceCheck]> {
  if (!raw) return [];
  return Array.isArray(raw) ? raw.map((c, i): [string, TraceCheck] => [`${at}/${i}`, c]) : [[at, raw]];
}

export function assertTracePatterns(trace: Trace, file: string): void {
  const all = [
    ...checksOf(trace.preconditions, '/preconditions'),
    ...trace.tool_calls.flatMap((s, i) => checksOf(s.check, `/tool_calls/${i}/check`)),
  ];
  for (const [at, c] of all) {
    if (typeof c.matches !== 'string') continue;
    try {
      compileSafeRegex(c.matches);
    } catch (e) {
      throw new LlmosError('ERR_TRACE_INVALID', `${file}: ${at}/matches: ${(e as Error).message}`);
    }
  }
}
