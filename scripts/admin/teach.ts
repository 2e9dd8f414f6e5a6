/**
 * llmos teach "<goal>": records what the operator does (direct `:call` lines, or jog) through the
 * safety gate, shows the trace it makes and saves it when confirmed. `--yes -` makes it a script:
 * `:call` lines from standard input until its end, saved without asking.
 */
import { LLMOS } from '../../runtime/llmos.js';
import { assertGoalFree, TeachRecorder } from '../../runtime/operator/teach.js';
import { installProcessGuards } from '../lib/process-guard.js';
import { unitLookup } from '../../safety/tools/index.js';
import { goalsFrom } from '../cli.js';
import { ownOrForward } from '../owner-start.js';
import { COMMON_HELP, configFrom, confirmOnTerminal, parseSub, SIM_HELP, SIM_OPTIONS, usage, type Io } from './common.js';
import { teachLoop, type TeachSink } from './teach-loop.js';

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

While a runtime owns the board (run-follower --serve), the demonstration runs in it: the lines go
over its control socket and its gate executes them (same output and exit status).

Exit status: 0 saved, 1 a call failed, nothing recorded, or not saved, 2 bad usage or configuration.

Example:
  printf ':call servo_move actuator=arm angle=120\\n' | llmos teach "raise the arm to 120 degrees" --yes -
  run-follower "raise the arm to 100 degrees"`;

export const TEACH_OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  ...SIM_OPTIONS,
} as const;

/** The goal and whether input comes from the terminal (no "-"), or ERR_USAGE. */
export function teachArgs(args: readonly string[]): { goal: string; interactive: boolean } {
  const [goal, src, ...extra] = args;
  if (goal === undefined || goal.trim() === '') throw usage('teach needs the goal, e.g. llmos teach "raise the arm to 120 degrees" --yes - (see --help)');
  if (extra.length > 0 || (src !== undefined && src !== '-')) throw usage(`teach takes one goal (quote it) and optionally "-"; got ${args.map((a) => JSON.stringify(a)).join(' ')}`);
  return { goal, interactive: src === undefined };
}

export async function teachCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, args } = parseSub(argv, TEACH_OPTIONS);
  if (values['help']) { io.out(`${TEACH_HELP}\n`); return 0; }
  const { goal, interactive } = teachArgs(args);
  if (interactive && !process.stdin.isTTY) throw usage('standard input is not a terminal: pass "-" to read :call lines from it (and --yes to save without asking)');
  const recorder = new TeachRecorder(goal);
  const config = configFrom(values);
  // It moves actuators: a runtime that owns the board runs the demonstration (scripts/admin/teach-owner.ts).
  const owner = await ownOrForward('llmos teach', argv, config.paths.state, 'auto');
  if ('code' in owner) return owner.code;
  const { lock } = owner;
  const os = new LLMOS({ config });
  await os.boot().catch((e: unknown) => { lock.release(); throw e; });
  const unguard = installProcessGuards(os);
  try {
    assertGoalFree(os.traces, goal);
    const sink: TeachSink = {
      executed: (call) => recorder.add(call),
      undo: () => recorder.undo(),
      recorded: () => recorder.recorded,
      finish: () => recorder.toTrace(unitLookup(os.catalog), os.clock.wallNow()),
      save: (trace) => os.traces.save(trace, `Taught by demonstration for "${goal}" (${recorder.recorded.length} call${recorder.recorded.length === 1 ? '' : 's'}).`),
      discard: () => undefined,
    };
    return await teachLoop(os, sink, { out: io.out, err: io.err, lines: goalsFrom(['-']), confirm: (q) => confirmOnTerminal(io, q) }, {
      goal, interactive, yes: values['yes'] === true, json: values['json'] === true, help: TEACH_HELP,
    });
  } finally {
    await os.shutdown('done');
    unguard();
    lock.release();
  }
}
