/**
 * One plain copy of a tool call's arguments, made once when the call enters the gate. The
 * schema check, the hooks, the audit log and the handler all see this copy, so an argument
 * object cannot answer one value to the check and another to the handler: getters are read
 * exactly once, proxies are read through once into plain data, inherited fields are left
 * behind (only own enumerable keys count), and functions, symbols and cycles are refused.
 */
import { LlmosError } from '../lib/errors.js';

const MAX_DEPTH = 16;
const MAX_NODES = 10000;

export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/** Throws ERR_TOOL_ARGS naming the tool and the path when the arguments are not plain data. */
export function plainArgs(tool: string, args: unknown): Record<string, Plain> {
  if (args === undefined || args === null) return {};
  let nodes = 0;
  const fail = (path: string, why: string): never => {
    throw new LlmosError('ERR_TOOL_ARGS', `${tool}: argument ${path || '(root)'} ${why}`);
  };
  const copy = (v: unknown, path: string, depth: number, seen: Set<object>): Plain | undefined => {
    if (++nodes > MAX_NODES) fail(path, `has more than ${MAX_NODES} values`);
    switch (typeof v) {
      case 'string': case 'number': case 'boolean': return v;
      case 'undefined': return undefined;
      case 'object': break;
      default: return fail(path, `is a ${typeof v}, not data`);
    }
    if (v === null) return null;
    if (depth > MAX_DEPTH) fail(path, `is nested deeper than ${MAX_DEPTH} levels`);
    if (seen.has(v)) fail(path, 'refers to itself');
    seen.add(v);
    try {
      if (Array.isArray(v)) {
        const n = Number(v.length);
        if (!Number.isSafeInteger(n) || n < 0 || n > MAX_NODES) fail(path, 'is an array of impossible length');
        const out: Plain[] = [];
        for (let i = 0; i < n; i++) {
          const item = copy((v as unknown[])[i], `${path}[${i}]`, depth + 1, seen);
          out.push(item === undefined ? null : item);
        }
        return out;
      }
      const entries: Array<[string, Plain]> = [];
      // Own enumerable string keys only; each value is read exactly once.
      for (const k of Object.keys(v)) {
        const item = copy((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth + 1, seen);
        if (item !== undefined) entries.push([k, item]);
      }
      // fromEntries defines own data properties: a "__proto__" key stays a plain key.
      return Object.fromEntries(entries) as { [k: string]: Plain };
    } catch (e) {
      if (e instanceof LlmosError) throw e;
      return fail(path, `could not be read: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      seen.delete(v);
    }
  };
  const out = copy(args, '', 0, new Set());
  if (out === null || typeof out !== 'object' || Array.isArray(out)) throw new LlmosError('ERR_TOOL_ARGS', `${tool}: arguments must be an object`);
  return out as Record<string, Plain>;
}
