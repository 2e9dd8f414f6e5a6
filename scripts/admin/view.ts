/**
 * llmos export mcap / llmos plot: look at a run after the fact. Both read a sim log (or a twin
 * timeline, same format); export also reads a run of the session log. Each writes one file, whole
 * or not at all.
 */
import { join } from 'node:path';
import { COMMON_HELP, configFrom, parseSub, shorten, table, usage, type Io, type Values } from './common.js';
import { simLogItems, writeMcap, writeOut } from './mcap.js';
import { runItems } from './run-export.js';
import { findRun, readSessionRuns } from './session-runs.js';
import { readSimLogFile } from './sim-log.js';
import { plotSvg } from './svg-plot.js';
import { assertReplaceable } from '../../lib/usable-path.js';

export const EXPORT_HELP = `llmos export mcap: a run for Foxglove.

Usage:
  llmos export mcap --run ID|last --out RUN.mcap [--sim-log FILE] [--state DIR]
  llmos export mcap --sim-log FILE --out RUN.mcap
  llmos export mcap --list [--state DIR] [--json]

--run: one run (one goal) of the session log (<state>/logs/sessions/runs.jsonl; --list prints
their ids, "last" is the newest), on JSON-schema channels, every time relative to the run's
wall-clock start:
  /actuators/<name>[/<channel>]  every write the run made, from the sim log it wrote (or --sim-log)
  /sensors/<name>                every reading (sensor_read steps, reflex polls)
  /steps                         tool, args, start t and end t_end (ms), ok, error code
  /events                        reflexes, e-stops, refusals, deadman and run limits, collisions
  /sentience                     the mode and values at the start and at every change
--sim-log alone: the whole sim log (one message per write, collisions and other events on
/events), also from runtimes that predate run ids. Open the file in Foxglove (File > Open).

Torn or damaged lines in the session log are skipped with a warning. The output is written whole
or not at all.

Options:
  --run ID|last        a run id from --list (needs the state directory the run used)
  --sim-log FILE       the sim log (with --run: instead of the one the run recorded)
  --out FILE           the .mcap file to write (its directory must exist)
  --list               the runs the session log holds, newest last

${COMMON_HELP}`;

export const PLOT_HELP = `llmos plot --sim-log FILE --out PLOT.svg: actuator values against time.

Usage:
  llmos plot --sim-log FILE --out PLOT.svg [--title TEXT]

One panel per actuator (and per channel of a drive base), drawn as steps; collisions and other
events are red lines. Open the SVG in any browser.

${COMMON_HELP}`;

const OPTIONS = { 'sim-log': { type: 'string' }, out: { type: 'string' }, title: { type: 'string' } } as const;
const EXPORT_OPTIONS = { ...OPTIONS, run: { type: 'string' }, list: { type: 'boolean' } } as const;

function paths(values: Record<string, unknown>): { log: string; out: string } {
  const log = values['sim-log'];
  const out = values['out'];
  if (typeof log !== 'string' || log === '') throw usage('--sim-log FILE is required (the sim log of a run: run-follower --sim-log FILE ...)');
  if (typeof out !== 'string' || out === '') throw usage('--out FILE is required');
  return { log, out };
}

export async function exportCommand(argv: readonly string[], io: Io): Promise<number> {
  const [what, ...rest] = argv;
  if (what === '--help' || what === '-h' || what === undefined) { io.out(`${EXPORT_HELP}\n`); return what === undefined ? 2 : 0; }
  if (what !== 'mcap') throw usage(`unknown export format "${what}" (mcap)`);
  const { values, args } = parseSub(rest, EXPORT_OPTIONS);
  if (values['help']) { io.out(`${EXPORT_HELP}\n`); return 0; }
  if (args.length > 0) throw usage(`export mcap takes no positional arguments; got ${args.map((a) => JSON.stringify(a)).join(' ')} (see --help)`);
  const json = values['json'] === true;
  if (values['list']) return listRuns(values, io);
  if (typeof values['run'] === 'string') return exportRun(values['run'], values, io);
  const { log, out } = paths(values);
  assertReplaceable(out, '--out', 'MCAP file');
  const contents = readSimLogFile(log);
  const r = await writeMcap(simLogItems(contents), out);
  const summary = { ok: true, out, messages: r.messages, channels: r.channels, torn_lines: contents.torn };
  io.out(json ? `${JSON.stringify(summary)}\n` : `wrote ${out}: ${r.messages} messages on ${r.channels.length} channels${contents.torn ? ' (a torn last line was skipped)' : ''}\n`);
  return 0;
}

function sessionsDir(values: Values): string {
  return join(configFrom(values).paths.logs, 'sessions');
}

function warn(io: Io, lines: readonly string[]): void {
  for (const l of lines.slice(0, 20)) io.err(`llmos export: warning: ${l}\n`);
  if (lines.length > 20) io.err(`llmos export: warning: ${lines.length - 20} more lines skipped\n`);
}

async function exportRun(id: string, values: Values, io: Io): Promise<number> {
  const out = values['out'];
  if (typeof out !== 'string' || out === '') throw usage('--out FILE is required');
  assertReplaceable(out, '--out', 'MCAP file');
  const simLog = typeof values['sim-log'] === 'string' && values['sim-log'] !== '' ? values['sim-log'] : undefined;
  const { run, skipped } = findRun(sessionsDir(values), id);
  warn(io, skipped);
  const r = runItems(run, simLog);
  warn(io, r.warnings);
  const w = await writeMcap(r.items, out, r.metadata);
  const summary = { ok: true, out, run: run.id, goal: run.goal, messages: w.messages, channels: w.channels, counts: w.counts, writes: r.writes, torn_lines: r.torn, skipped_lines: skipped.length, warnings: r.warnings };
  io.out(json(values) ? `${JSON.stringify(summary)}\n` : `wrote ${out}: run ${run.id} ("${run.goal}"), ${w.messages} messages on ${w.channels.length} channels (${r.writes} actuator writes)\n`);
  return 0;
}

function listRuns(values: Values, io: Io): number {
  const dir = sessionsDir(values);
  const all = readSessionRuns(dir);
  warn(io, all.skipped);
  const rows = all.runs.map((r) => ({ id: r.id, started_at: r.started_at, goal: r.goal, mode: r.mode ?? null, ok: r.ok ?? null, steps: r.timeline?.steps.length ?? 0, duration_ms: r.duration_ms, sim_log: r.sim_log?.file ?? null }));
  if (json(values)) {
    io.out(`${JSON.stringify({ ok: true, dir, runs: rows, without_id: all.withoutId, skipped_lines: all.skipped.length })}\n`);
    return 0;
  }
  if (rows.length === 0) io.out(`no runs with an id in ${dir}${all.withoutId ? ` (${all.withoutId} older lines have none)` : ''}\n`);
  else io.out(`${table(['ID', 'STARTED', 'MODE', 'OK', 'STEPS', 'GOAL'], rows.map((r) => [r.id, r.started_at, r.mode ?? '-', r.ok === null ? '-' : r.ok ? 'yes' : 'no', String(r.steps), shorten(r.goal, 60)]))}\n`);
  return 0;
}

const json = (values: Values): boolean => values['json'] === true;

export async function plotCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseSub(argv, OPTIONS);
  if (values['help']) { io.out(`${PLOT_HELP}\n`); return 0; }
  const { log, out } = paths(values);
  assertReplaceable(out, '--out', 'SVG plot');
  const contents = readSimLogFile(log);
  const { svg, series } = plotSvg(contents, typeof values['title'] === 'string' ? values['title'] : `actuator values: ${log}`);
  await writeOut(out, svg);
  io.out(values['json'] ? `${JSON.stringify({ ok: true, out, series })}\n` : `wrote ${out}: ${series.length} series\n`);
  return 0;
}
