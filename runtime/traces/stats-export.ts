/**
 * A trace file's bytes with the runs counted in the state directory folded into its statistics
 * fields, for a bundle: the receiving board starts from what this one learned. Only those fields
 * change; comments and layout stay. A trace with no counted runs is exported byte for byte.
 */
import { LlmosError } from '../../lib/errors.js';
import { yamlLib } from '../../lib/yaml-file.js';
import { baseOf, mergeStats, type TraceRunStats } from './stats.js';
import type { TraceRecord } from './types.js';

export function withRunStats(r: TraceRecord & { data: Buffer }, journal: ReadonlyMap<string, TraceRunStats>): Buffer {
  const s = journal.get(r.trace.goal_signature);
  const base = baseOf(r.trace);
  const merged = { ...r.trace };
  mergeStats(merged, base, s);
  if (merged.usage_count === r.trace.usage_count) return r.data;
  if (r.format !== 'core') {
    // An upstream edge file has no success_count; its own fields take the merged values.
    return patch(r, { usage_count: merged.usage_count, success_rate: merged.success_rate, last_used: merged.last_used ?? undefined });
  }
  return patch(r, { usage_count: merged.usage_count, success_count: merged.success_count, success_rate: merged.success_rate, last_used: merged.last_used ?? undefined });
}

function patch(r: TraceRecord & { data: Buffer }, fields: Record<string, unknown>): Buffer {
  const { parseDocument, isMap } = yamlLib();
  const doc = parseDocument(r.data.toString('utf8'));
  if (!isMap(doc.contents)) throw new LlmosError('ERR_TRACE_INVALID', `${r.file}: not a YAML mapping`);
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) doc.set(k, v);
  return Buffer.from(doc.toString({ lineWidth: 0 }), 'utf8');
}
