/**
 * One run of the session log as MCAP items, on one time origin: the run's wall-clock start.
 * Steps, events, sentience and sensor readings come from the run's session-log line (their `t` is
 * ms since the run started); actuator writes and sim events come from the sim log the run wrote,
 * cut to the run's window and moved onto the run's time (`sim_t` keeps the sim log's own time).
 * A sim log that is gone or was written over by a later process is reported, not fatal: the
 * export then holds what the session log has.
 */
import { existsSync } from 'node:fs';
import { LlmosError } from '../../lib/errors.js';
import { ns, type McapItem } from './mcap.js';
import { readSimLogFile, seriesOf, type SimLogContents } from './sim-log.js';
import type { RunRecord } from './session-runs.js';

/** Writes stamped up to this long after the run's recorded end still belong to it (its final stop). */
const END_SLACK_MS = 1;

export interface RunItems {
  items: McapItem[];
  metadata: Record<string, string>;
  /** Sim-log writes taken into the run. */
  writes: number;
  warnings: string[];
  torn: number;
}

export function runItems(run: RunRecord, simLogOverride?: string): RunItems {
  const origin = Date.parse(run.started_at);
  if (!Number.isFinite(origin)) throw new LlmosError('ERR_USAGE', `run ${run.id}: started_at ${JSON.stringify(run.started_at)} is not a time`);
  // Epoch ms times 1e6 is past 2^53: multiply as a bigint.
  const at = (t: number): bigint => BigInt(origin) * 1_000_000n + ns(t);
  const items: McapItem[] = [];
  const warnings: string[] = [];
  const tl = run.timeline;
  if (!tl) warnings.push(`run ${run.id} has no timeline (it never started: ${run.goal})`);
  for (const s of tl?.steps ?? []) items.push({ time: at(s.t), topic: '/steps', schema: 'step', body: { ...s } });
  for (const e of tl?.events ?? []) items.push({ time: at(e.t), topic: '/events', schema: 'event', body: { ...e } });
  for (const s of tl?.sentience ?? []) items.push({ time: at(s.t), topic: '/sentience', schema: 'sentience', body: { ...s } });
  for (const r of tl?.sensors ?? []) items.push({ time: at(r.t), topic: `/sensors/${r.sensor}`, schema: 'reading', body: { ...r } });
  if (tl?.dropped) warnings.push(`run ${run.id}: ${tl.dropped} timeline entries beyond the per-run cap were not recorded`);

  let writes = 0;
  let torn = 0;
  const file = simLogOverride ?? run.sim_log?.file;
  if (file !== undefined) {
    let log: SimLogContents | undefined;
    if (simLogOverride === undefined && !existsSync(file)) warnings.push(`the sim log ${file} of run ${run.id} is gone: no actuator writes exported`);
    else log = readSimLogFile(file);
    if (log) {
      torn = log.torn;
      const picked = pickWrites(log, run);
      if (picked.warning) warnings.push(picked.warning);
      const t0 = run.sim_log?.t0 ?? 0;
      for (const w of picked.writes) {
        writes++;
        items.push({ time: at(Math.max(0, w.t - t0)), topic: `/actuators/${seriesOf(w)}`, schema: 'write', body: { ...w, t: round(w.t - t0), sim_t: w.t } });
      }
      for (const o of log.other) {
        if (o.t < t0 || o.t > picked.t1) continue;
        items.push({ time: at(o.t - t0), topic: '/events', schema: 'event', body: { ...o, t: round(o.t - t0), sim_t: o.t } });
      }
    }
  }
  const metadata: Record<string, string> = {
    id: run.id, goal: run.goal, started_at: run.started_at, duration_ms: String(run.duration_ms),
    ...(run.mode ? { mode: run.mode } : {}), ...(run.ok !== undefined ? { ok: String(run.ok) } : {}), ...(file ? { sim_log: file } : {}),
  };
  return { items, metadata, writes, warnings, torn };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * The run's writes in the sim log. Exact when the log is the one the run wrote: the runtime
 * recorded how many writes came before the run and how many it made, and those lines lie inside
 * the run's time window. Otherwise (an old record, a log written over by a later process, a
 * watchdog's lines in between) the writes inside the time window, with a warning.
 */
function pickWrites(log: SimLogContents, run: RunRecord): { writes: SimLogContents['writes']; t1: number; warning?: string } {
  const sim = run.sim_log;
  const t0 = sim?.t0 ?? 0;
  const t1 = sim?.t1 ?? t0 + run.duration_ms + END_SLACK_MS;
  const expected = run.timeline?.writes;
  // File order (the reader sorts by time, stably): the gate's writes are the non-watchdog lines.
  const gateWrites = log.writes.filter((w) => w['source'] !== 'watchdog');
  if (sim?.first !== undefined && expected !== undefined) {
    const slice = gateWrites.slice(sim.first, sim.first + expected);
    if (slice.length === expected && slice.every((w) => w.t >= t0 && w.t <= t1)) return { writes: slice, t1 };
  }
  const inWindow = log.writes.filter((w) => w.t >= t0 && w.t <= t1);
  const last = log.writes.at(-1)?.t ?? 0;
  const warning = expected !== undefined && expected !== inWindow.length
    ? `the sim log holds ${inWindow.length} write${inWindow.length === 1 ? '' : 's'} in run ${run.id}'s time window; the run made ${expected}${last < t0 ? ' (the log ends before the run started: written over by a later process?)' : ''}`
    : undefined;
  return { writes: inWindow, t1, ...(warning ? { warning } : {}) };
}
