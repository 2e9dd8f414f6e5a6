/**
 * llmos export mcap / llmos plot: look at a run after the fact. Both read a sim log (or a twin
 * timeline, same format) and write one file, whole or not at all.
 */
import { COMMON_HELP, parseSub, usage, type Io } from './common.js';
import { writeMcap, writeOut } from './mcap.js';
import { readSimLogFile } from './sim-log.js';
import { plotSvg } from './svg-plot.js';
import { assertReplaceable } from '../../lib/usable-path.js';

export const EXPORT_HELP = `llmos export mcap --sim-log FILE --out RUN.mcap: a run for Foxglove.

Usage:
  llmos export mcap --sim-log FILE --out RUN.mcap

Each actuator (and each channel of a drive base) becomes a JSON-schema channel
/actuators/<name>[/<channel>] with one message per write at its time; collisions and other
events in the log go to /events. Open the file in Foxglove (File > Open).

${COMMON_HELP}`;

export const PLOT_HELP = `llmos plot --sim-log FILE --out PLOT.svg: actuator values against time.

Usage:
  llmos plot --sim-log FILE --out PLOT.svg [--title TEXT]

One panel per actuator (and per channel of a drive base), drawn as steps; collisions and other
events are red lines. Open the SVG in any browser.

${COMMON_HELP}`;

const OPTIONS = { 'sim-log': { type: 'string' }, out: { type: 'string' }, title: { type: 'string' } } as const;

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
  const { values } = parseSub(rest, OPTIONS);
  if (values['help']) { io.out(`${EXPORT_HELP}\n`); return 0; }
  const { log, out } = paths(values);
  assertReplaceable(out, '--out', 'MCAP file');
  const contents = readSimLogFile(log);
  const r = await writeMcap(contents, out);
  const summary = { ok: true, out, messages: r.messages, channels: r.channels, torn_lines: contents.torn };
  io.out(values['json'] ? `${JSON.stringify(summary)}\n` : `wrote ${out}: ${r.messages} messages on ${r.channels.length} channels${contents.torn ? ' (a torn last line was skipped)' : ''}\n`);
  return 0;
}

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
