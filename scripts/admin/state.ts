/** `llmos board check` and `llmos state show`: what the board has and what the runtime remembers. */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RealClock } from '../../lib/clock.js';
import { traceHash } from '../../runtime/crystallize/codegen.js';
import { CrystallizedRegistry } from '../../runtime/crystallize/registry.js';
import { trustPolicy } from '../../runtime/crystallize/trust.js';
import { Sentience } from '../../runtime/sentience/sentience.js';
import { liveOwner } from '../../runtime/owner/status.js';
import { TraceStore } from '../../runtime/traces/store.js';
import { traceStatsFile } from '../../runtime/traces/stats.js';
import { checkBoard, formatBoardCheck } from '../check-board.js';
import { COMMON_HELP, configFrom, fmtDate, parseSub, table, usage, type Io } from './common.js';

export const BOARD_HELP = `llmos board check: validate the board profile and probe each device (nothing moves).

Usage:
  llmos board check [--board FILE|sim] [--twins]
  --twins   probe the board's drivers against simulated twins of their hardware
Exit status: 0 every device found, 1 a device is missing or the profile is invalid.

${COMMON_HELP}`;

export const STATE_HELP = `llmos state show: sentience state, the last e-stop event and trace counts.
llmos state reset: forget sentience, run statistics or a persisted e-stop (llmos state reset --help).

Usage:
  llmos state show [--state DIR]
  llmos state reset [--sentience] [--stats] [--estop] [--yes]

${COMMON_HELP}`;

export async function boardCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, args: positional } = parseSub(argv, { twins: { type: 'boolean' } });
  const [sub, ...args] = positional;
  if (values['help'] || sub === undefined) { io.out(`${BOARD_HELP}\n`); return values['help'] ? 0 : 2; }
  if (sub !== 'check') throw usage(`unknown subcommand "board ${sub}" (check)`);
  if (args.length) throw usage(`board check takes no arguments (got "${args.join(' ')}"); use --board FILE`);
  const config = configFrom(values, io.cwd);
  // Probing opens the devices: not while a runtime owns them (ERR_OWNER_BUSY).
  const { ownOrForward } = await import('../owner-start.js');
  const owner = await ownOrForward('llmos board check', argv, config.paths.state, 'standalone', io);
  const lock = 'lock' in owner ? owner.lock : undefined;
  const report = await checkBoard(config.board, { twins: values['twins'] === true || config.sim.twins === true }).finally(() => lock?.release());
  io.out(`${values['json'] ? JSON.stringify(report) : formatBoardCheck(report)}\n`);
  return report.ok ? 0 : 1;
}

/** The last e-stop decision in the audit log (the e-stop itself is latched in the running process). */
function lastEstop(auditFile: string): { decision: string; ts: string; reason?: string; source?: string } | null {
  if (!existsSync(auditFile)) return null;
  // Only the tail: an audit log of months must not be read whole.
  const size = statSync(auditFile).size;
  const len = Math.min(size, 1 << 20);
  const buf = Buffer.alloc(len);
  const fd = openSync(auditFile, 'r');
  try { readSync(fd, buf, 0, len, size - len); } finally { closeSync(fd); }
  const lines = buf.toString('utf8').split('\n').reverse();
  for (const line of lines) {
    if (!line.includes('"estop"') && !line.includes('"release"')) continue;
    try {
      const e = JSON.parse(line) as { decision?: string; ts?: string; reason?: string; source?: string };
      if (e.decision === 'estop' || e.decision === 'release') {
        return { decision: e.decision, ts: e.ts ?? '', ...(e.reason ? { reason: e.reason } : {}), ...(e.source ? { source: e.source } : {}) };
      }
    } catch { /* a torn last line */ }
  }
  return null;
}

export async function stateCommand(argv: readonly string[], io: Io): Promise<number> {
  // reset has flags of its own: it parses them itself.
  if (argv[0] === 'reset') return (await import('./state-reset.js')).stateResetCommand(argv.slice(1), io);
  const { values, args: positional } = parseSub(argv);
  const [sub, ...args] = positional;
  if (values['help'] || sub === undefined) { io.out(`${STATE_HELP}\n`); return values['help'] ? 0 : 2; }
  if (sub === 'reset') throw usage('put reset right after state: llmos state reset [--sentience] [--stats] [--estop] ...');
  if (sub !== 'show') throw usage(`unknown subcommand "state ${sub}" (show, reset)`);
  if (args.length) throw usage(`state show takes no arguments (got "${args.join(' ')}")`);
  const cfg = configFrom(values, io.cwd);
  const file = join(cfg.paths.state, 'sentience.json');
  const sentience = new Sentience({ config: cfg.sentience, clock: new RealClock(), file });
  const persisted = sentience.load();
  // A file that exists but does not load is damaged, not "nothing persisted yet".
  const damaged = !persisted && existsSync(file);
  const snap = sentience.snapshot();
  const store = new TraceStore({ dir: cfg.paths.traces, statsFile: traceStatsFile(cfg.paths.state) });
  const report = store.load();
  const registry = new CrystallizedRegistry({ dir: cfg.paths.crystallized, trust: trustPolicy(cfg.crystallization.trusted_sha256, (sig) => store.get(sig)?.trace) });
  const fns = registry.scan();
  const all = store.all();
  const c = cfg.crystallization;
  const traces = {
    total: all.length,
    invalid: report.errors.length,
    crystallized: all.filter((r) => registry.has(r.trace.goal_signature, () => traceHash(r.trace))).length,
    ready_to_crystallize: all.filter((r) => r.trace.usage_count >= c.min_usage && r.trace.success_rate >= c.min_success && !registry.has(r.trace.goal_signature, () => traceHash(r.trace))).length,
    learned: all.filter((r) => r.trace.origin === 'learned' || r.trace.origin === 'mixed').length,
    runs: all.reduce((n, r) => n + r.trace.usage_count, 0),
    crystallized_files: fns.length,
  };
  const estop = lastEstop(join(cfg.paths.state, 'audit.jsonl'));
  const owner = await liveOwner(cfg.paths.state);
  const out = {
    owner: owner ?? null,
    device_id: cfg.device_id, preset: cfg.preset, board: cfg.board,
    paths: { traces: cfg.paths.traces, crystallized: cfg.paths.crystallized, state: cfg.paths.state },
    sentience: { enabled: cfg.sentience.enabled, persisted, damaged, file, ...snap },
    estop: { last_event: estop, note: 'the e-stop is latched in the running process; a restart starts released' },
    traces,
  };
  if (values['json']) { io.out(`${JSON.stringify(out)}\n`); return 0; }
  const v = snap.values;
  io.out([
    `device     ${cfg.device_id} (${cfg.preset}), board ${cfg.board}`,
    `sentience  ${cfg.sentience.enabled ? snap.mode : 'disabled'}${persisted ? ` (from ${file}${snap.last_event ? `, last event ${snap.last_event}` : ''})` : damaged ? ` (${file} is unreadable or invalid: initial values shown; the runtime starts from them too)` : ' (nothing persisted yet: initial values)'}`,
    table(['', 'safety', 'curiosity', 'energy', 'confidence'], [
      ['value', String(v.safety), String(v.curiosity), String(v.energy), String(v.confidence)],
      ['set-point', ...(['safety', 'curiosity', 'energy', 'confidence'] as const).map((k) => String(snap.set_points[k]))],
    ]).split('\n').map((l) => `  ${l}`).join('\n'),
    `e-stop     ${estop ? `last ${estop.decision === 'estop' ? 'engaged' : 'released'} ${fmtDate(estop.ts)}${estop.reason ? ` (${estop.reason})` : ''}` : 'no e-stop in the audit log'}`,
    `owner      ${owner ? `pid ${owner.pid}${owner.command ? ` (${owner.command})` : ''}: goals sent by run-follower go to it (${owner.socket ?? ''})` : 'none: the next run-follower owns the board while it runs'}`,
    `traces     ${traces.total} loaded, ${traces.invalid} invalid, ${traces.crystallized} crystallized, ${traces.ready_to_crystallize} ready to crystallize, ${traces.learned} learned, ${traces.runs} runs (${cfg.paths.traces})`,
  ].join('\n') + '\n');
  return 0;
}
