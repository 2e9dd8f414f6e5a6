/**
 * llmos teach "<goal>": records what the operator does (direct `:call` lines, or jog) through the
 * safety gate, shows the trace it makes and saves it when confirmed. `--yes -` makes it a script:
 * `:call` lines from standard input until its end, saved without asking.
 */
import { yamlLib } from '../../lib/yaml-file.js';
import { toLlmosError } from '../../lib/errors.js';
import { LLMOS } from '../../runtime/llmos.js';
import { parseCallLine, formatCallLine } from '../../runtime/operator/call-line.js';
import { assertGoalFree, TeachRecorder } from '../../runtime/operator/teach.js';
import { installProcessGuards } from '../lib/process-guard.js';
import { unitLookup } from '../../safety/tools/index.js';
import { goalsFrom, runControl } from '../cli.js';
import { ownOrForward } from '../owner-start.js';
import { COMMON_HELP, configFrom, confirmOnTerminal, parseSub, SIM_HELP, SIM_OPTIONS, usage, type Io } from './common.js';

export const TEACH_HELP = `llmos teach "<goal>" [-] [--yes]: teach a trace by demonstration.

Each call you make goes through the safety gate and moves the board (bounds, deadman, e-stop and
hooks apply) and is recorded. At the end the recorded calls become a trace for <goal>, shown
before it is saved. Numbers in the goal that equal a recorded argument become parameters:
taught as "raise the arm to 120 degrees", it also serves "raise the arm to 100 degrees".

Input, one per line (from the terminal, or standard input with "-"):
  :call <tool> name=value ...   e.g. :call servo_move actuator=arm angle=120
  :undo                          forget the last recorded call (it is not undone on the board)
  :show                          print the trace so far
  :save                          finish and save (after confirming, unless --yes)
  :discard                       finish without saving
  :estop  :release  :status      as in run-follower
The end of input finishes as :save does.

Options:
  -y, --yes            save without asking (needed when standard input is not a terminal)
${SIM_HELP}
${COMMON_HELP}

Exit status: 0 saved, 1 a call failed, nothing recorded, or not saved, 2 bad usage or configuration.

Example:
  printf ':call servo_move actuator=arm angle=120\\n' | llmos teach "raise the arm to 120 degrees" --yes -
  run-follower "raise the arm to 100 degrees"`;

const OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  ...SIM_OPTIONS,
} as const;

export async function teachCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, args } = parseSub(argv, OPTIONS);
  if (values['help']) { io.out(`${TEACH_HELP}\n`); return 0; }
  const [goal, src, ...extra] = args;
  if (goal === undefined || goal.trim() === '') throw usage('teach needs the goal, e.g. llmos teach "raise the arm to 120 degrees" --yes - (see --help)');
  if (extra.length > 0 || (src !== undefined && src !== '-')) throw usage(`teach takes one goal (quote it) and optionally "-"; got ${args.map((a) => JSON.stringify(a)).join(' ')}`);
  const interactive = src === undefined;
  if (interactive && !process.stdin.isTTY) throw usage('standard input is not a terminal: pass "-" to read :call lines from it (and --yes to save without asking)');
  const json = values['json'] === true;
  const recorder = new TeachRecorder(goal);
  const config = configFrom(values);
  // It moves actuators: only with the board to itself (refused while a runtime owns it).
  const owner = await ownOrForward('llmos teach', argv, config.paths.state, 'standalone');
  const lock = 'lock' in owner ? owner.lock : undefined;
  const os = new LLMOS({ config });
  await os.boot().catch((e: unknown) => { lock?.release(); throw e; });
  const unguard = installProcessGuards(os);
  let failed: string | undefined;
  let discard = false;
  try {
    assertGoalFree(os.traces, goal);
    if (interactive) io.err(`teaching "${goal}": :call <tool> name=value ..., then :save (or :discard); :help lists the rest\n`);
    for await (const line of goalsFrom(['-'])) {
      const [cmd = '', ...rest] = line.split(/\s+/);
      if (cmd === ':call') {
        try {
          const call = parseCallLine(rest.join(' '));
          const r = await os.callTool(call, { source: 'operator' });
          recorder.add(call);
          io.err(`  recorded ${formatCallLine(call)}${r.adjusted.length ? ` (the gate adjusted: ${r.adjusted.join('; ')})` : ''}\n`);
        } catch (e) {
          const err = toLlmosError(e);
          io.err(`  not recorded: ${err.code}: ${err.message}\n`);
          if (!interactive) { failed = `a call failed (${err.code}); nothing is saved from a demonstration with a failed call`; break; }
        }
      } else if (cmd === ':undo') {
        const c = recorder.undo();
        io.err(c ? `  forgot ${formatCallLine(c)}\n` : '  nothing to forget\n');
      } else if (cmd === ':show') {
        io.err(recorder.recorded.length ? `${recorder.recorded.map((c, i) => `  ${i + 1}. ${formatCallLine(c)}`).join('\n')}\n` : '  nothing recorded yet\n');
      } else if (cmd === ':save') {
        break;
      } else if (cmd === ':discard') {
        discard = true;
        break;
      } else if (cmd === ':help') {
        io.err(`${TEACH_HELP}\n`);
      } else if (cmd.startsWith(':')) {
        io.err(`${runControl(os, line)}\n`);
      } else {
        io.err(`  teach reads :call lines (e.g. ":call servo_move actuator=arm angle=45"), not goals: "${line}" ignored\n`);
        if (!interactive) { failed = `line "${line}" is not a :call line`; break; }
      }
    }
    if (failed) { io.err(`llmos teach: ${failed}\n`); return 1; }
    if (discard) { io.err('llmos teach: discarded; nothing saved\n'); return 1; }
    if (recorder.recorded.length === 0) { io.err(`llmos teach: nothing was recorded for "${goal}": make at least one call (:call <tool> name=value ...); nothing saved\n`); return 1; }
    const trace = recorder.toTrace(unitLookup(os.catalog), os.clock.wallNow());
    io.err(`${yamlLib().stringify(trace)}`);
    if (values['yes'] !== true) {
      const answer = await confirmOnTerminal(io, `save this trace for "${goal}"?`);
      if (answer === undefined) { io.err('llmos teach: no terminal to confirm on: not saved (pass --yes to save without asking)\n'); return 1; }
      if (!answer) { io.err('llmos teach: not saved\n'); return 1; }
    }
    const rec = await os.traces.save(trace, `Taught by demonstration for "${goal}" (${recorder.recorded.length} call${recorder.recorded.length === 1 ? '' : 's'}).`);
    const params = Object.keys(rec.trace.parameters ?? {});
    io.out(json
      ? `${JSON.stringify({ ok: true, signature: rec.trace.goal_signature, file: rec.file, goal, calls: recorder.recorded.length, parameters: params })}\n`
      : `saved ${rec.file} (${rec.trace.goal_signature}): ${recorder.recorded.length} call${recorder.recorded.length === 1 ? '' : 's'}${params.length ? `, parameters: ${params.join(', ')}` : ''}\n`);
    return 0;
  } finally {
    await os.shutdown('done');
    unguard();
    lock?.release();
  }
}
