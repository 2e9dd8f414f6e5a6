/**
 * llmos state reset: forget what the state directory remembers, on purpose. --sentience and
 * --stats remove their files (the runtime starts from its initial values, and traces from the
 * statistics in their files); --estop releases a persisted e-stop by the same rules as any
 * release: the board is opened and the release is refused while an e-stop input is active. It
 * asks first (unless --yes), and needs the board to itself: a running runtime keeps its own state.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LLMOS } from '../../runtime/llmos.js';
import { traceStatsFile } from '../../runtime/traces/stats.js';
import { ownOrForward } from '../owner-start.js';
import { loggerFor } from '../main-io.js';
import { COMMON_HELP, configFrom, confirmOnTerminal, parseSub, usage, type Io } from './common.js';

export const RESET_HELP = `llmos state reset [--sentience] [--stats] [--estop] [--yes]: forget state on purpose.

  --sentience   the sentience values (state/sentience.json): back to the initial values
  --stats       the run statistics of every trace (state/trace-stats.jsonl): back to the trace files'
  --estop       release a persisted e-stop: refused while an e-stop input (button) is still active
  -y, --yes     do it without asking (otherwise it asks on the terminal)

It refuses while a runtime owns the state directory (stop the service first; to release an
e-stop on a running board, send ":release" through run-follower or MQTT cmd/estop).

${COMMON_HELP}

Exit status: 0 done, 1 not confirmed or refused, 2 bad usage or configuration.`;

const OPTIONS = { sentience: { type: 'boolean' }, stats: { type: 'boolean' }, estop: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } } as const;

export async function stateResetCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, args } = parseSub(argv, OPTIONS);
  if (values['help']) { io.out(`${RESET_HELP}\n`); return 0; }
  if (args.length > 0) throw usage(`state reset takes no arguments (got "${args.join(' ')}")`);
  const what = (['sentience', 'stats', 'estop'] as const).filter((k) => values[k] === true);
  if (what.length === 0) throw usage('say what to reset: --sentience, --stats and/or --estop (see llmos state reset --help)');
  const cfg = configFrom(values, io.cwd);
  const { lock } = await ownOrForward('llmos state reset', argv, cfg.paths.state, 'standalone', io) as { lock: { release(): void } };
  try {
    if (values['yes'] !== true) {
      const answer = await confirmOnTerminal(io, `reset ${what.join(', ')} in ${cfg.paths.state}?`);
      if (answer === undefined) { io.err('llmos: no terminal to confirm on: nothing reset (pass --yes)\n'); return 1; }
      if (!answer) { io.err('llmos: nothing reset\n'); return 1; }
    }
    const done: string[] = [];
    if (values['estop'] === true) {
      // The board is opened so its e-stop inputs are read: a reset is a release, with its rules.
      const os = new LLMOS({ config: cfg, ...loggerFor(io, cfg) });
      await os.boot();
      try {
        done.push(os.releaseEstop('cli') ? 'e-stop released' : 'the e-stop was not engaged');
      } finally {
        await os.shutdown('state reset');
      }
    }
    for (const [flag, file, label] of [['sentience', join(cfg.paths.state, 'sentience.json'), 'sentience'], ['stats', traceStatsFile(cfg.paths.state), 'run statistics']] as const) {
      if (values[flag] !== true) continue;
      const had = existsSync(file);
      rmSync(file, { force: true });
      done.push(had ? `${label} reset (${file} removed)` : `${label}: nothing stored`);
    }
    io.out(values['json'] ? `${JSON.stringify({ ok: true, reset: what, done })}\n` : `${done.join('\n')}\n`);
    return 0;
  } finally {
    lock.release();
  }
}
