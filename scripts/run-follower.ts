#!/usr/bin/env node
/**
 * run-follower: the deterministic edge runtime. Serves goals from learned traces (FOLLOWER,
 * CRYSTALLIZED, ORCHESTRATOR of those) and never calls an LLM.
 */
import { readFileSync } from 'node:fs';
import { isLlmosError, toLlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { loadConfig } from '../runtime/config.js';
import { LLMOS } from '../runtime/llmos.js';
import { installProcessGuards } from '../runtime/process-guard.js';
import { checkBoard, formatBoardCheck } from './check-board.js';
import { announceConfirmations, COMMON_OPTIONS, formatResult, goalsFrom, overridesFrom, parseCli, runControl, usageError } from './cli.js';

const HELP = `run-follower: run learned robot behaviour deterministically (no LLM).

Usage:
  run-follower [options] "<goal>"      run one goal and exit
  run-follower [options] -             read goals from standard input, one per line
  run-follower --serve [options]       keep running; goals from standard input (and MQTT)
  run-follower --check-board [--board FILE]

Options:
  --config FILE        YAML configuration (see schemas/config.schema.json)
  --preset NAME        development (default) or production
  --board FILE|sim     board profile; "sim" is the shipped simulated board
  --traces DIR         directory of trace files (default ./traces)
  --state DIR          state directory: audit log, caches (default ./state)
  --json               one JSON line per goal: goal, mode, trace, score, params, ok, llm_calls, error
  --explain            decide and print the decision; do not execute
  --sim-log FILE       record every simulated actuator write as a JSON line
  --sim-time MODE      real (default) or virtual: simulated motion completes instantly
  --mqtt URL           MQTT broker (overrides the config)
  --device-id ID       device id for MQTT topics (overrides the config)
  --log-level LEVEL    trace|debug|info|warn|error|silent
  --check-board        validate the board profile and probe each device
  -h, --help           this help
  --version            print the version

Exit status: 0 every goal succeeded, 1 a goal failed or was refused, 2 bad usage or configuration.
Signals: SIGINT/SIGTERM stop safely; SIGUSR1 engages the e-stop, SIGUSR2 releases it.

Operator commands (lines on standard input with "-" or --serve):
  :estop [reason]      engage the latched e-stop        :release     release it
  :confirm <id>        approve a call waiting for confirmation (ids are printed on stderr)
  :deny <id>           refuse it                        :status      e-stop and pending confirmations

Examples:
  run-follower --board sim --sim-log /tmp/sim.jsonl "drive forward 2 meters"
  echo "wave hello" | run-follower --json -
  run-follower --explain "turn left 45 degrees then beep"`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(argv, COMMON_OPTIONS);
  } catch (e) {
    const u = usageError(e);
    process.stderr.write(`run-follower: ${u.message}\n`);
    return u.code;
  }
  const { values, goals } = parsed;
  if (values['help']) { process.stdout.write(`${HELP}\n`); return 0; }
  if (values['version']) {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const json = values['json'] === true;
  let os: LLMOS;
  try {
    const config = loadConfig({ ...(typeof values['config'] === 'string' ? { file: values['config'] } : {}), overrides: overridesFrom(values) });
    if (values['check-board']) {
      const report = await checkBoard(config.board);
      process.stdout.write(`${json ? JSON.stringify(report) : formatBoardCheck(report)}\n`);
      return report.ok ? 0 : 1;
    }
    if (goals.length === 0 && !values['serve']) throw toLlmosError(new Error('no goal given: pass "<goal>", "-" for standard input, or --serve'), 'ERR_USAGE');
    os = new LLMOS({ config });
    await os.boot();
  } catch (e) {
    const u = usageError(e);
    process.stderr.write(`run-follower: ${u.message}\n`);
    return u.code;
  }

  const unguard = installProcessGuards(os);
  let failed = false;
  try {
    const source = values['serve'] ? goalsFrom(['-']) : goalsFrom(goals);
    const offConfirm = announceConfirmations(os);
    // Lines are read while goals run, so ":confirm <id>" can answer a goal that is waiting.
    let printing: Promise<void> = Promise.resolve();
    for await (const line of source) {
      if (line.startsWith(':')) {
        process.stderr.write(`${runControl(os, line)}\n`);
        continue;
      }
      const result = os.execute(line, { source: 'cli', explain: values['explain'] === true });
      printing = printing.then(async () => {
        const r = await result;
        if (!r.ok) failed = true;
        process.stdout.write(`${formatResult(r, json)}\n`);
      });
    }
    await printing;
    offConfirm();
  } catch (e) {
    const err = toLlmosError(e);
    process.stderr.write(`run-follower: ${err.code}: ${err.message}\n`);
    await os.shutdown('error');
    unguard();
    return isLlmosError(e) && err.code === 'ERR_USAGE' ? 2 : 1;
  }
  await os.shutdown('done');
  unguard();
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`run-follower: ERR_INTERNAL: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 2;
});
