/**
 * `llmos teach` sent to the runtime that owns the board: the demonstration runs in the owner,
 * through its gate, in its teaching session (the one MQTT cmd/teach uses, so the two never
 * record at once), with the same output and exit codes as `llmos teach` on its own. Without
 * --yes, the question is answered by the client's next input line (it has no terminal here).
 */
import { exitStatusOf, toLlmosError } from '../../lib/errors.js';
import type { LLMOS } from '../../runtime/llmos.js';
import { discardTeaching, saveTeaching, startTeaching, stopTeaching, teachingCalls, undoTeaching } from '../../runtime/operator/teach-session.js';
import type { SessionIo } from '../../runtime/owner/server.js';
import { checkSameRuntime, SPECS } from '../owner-session.js';
import type { CommandSpec } from '../runner.js';
import { parseSub } from './common.js';
import { teachArgs, TEACH_HELP, TEACH_OPTIONS } from './teach.js';
import { teachLoop, type TeachSink } from './teach-loop.js';

export async function teachSession(os: LLMOS, argv: readonly string[], cwd: string, io: SessionIo): Promise<number> {
  let goal: string;
  let interactive: boolean;
  let values: Record<string, unknown>;
  try {
    const parsed = parseSub(argv, TEACH_OPTIONS);
    values = parsed.values;
    if (values['help']) { io.out(`${TEACH_HELP}\n`); return 0; }
    ({ goal, interactive } = teachArgs(parsed.args));
    checkSameRuntime(os.config, parsed.values as Parameters<typeof checkSameRuntime>[1], SPECS['run-follower'] as Omit<CommandSpec, 'help'>, cwd);
    startTeaching(os, goal);
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`llmos: ${err.code}: ${err.message}\n`);
    return exitStatusOf(err.code);
  }
  const sink: TeachSink = {
    // The session records what the gate executed for operators (its decision events).
    executed: () => undefined,
    undo: () => undoTeaching(os),
    recorded: () => teachingCalls(os),
    finish: () => stopTeaching(os).trace,
    save: () => saveTeaching(os),
    discard: () => { try { discardTeaching(os); } catch { /* saved or discarded already */ } },
  };
  const confirm = async (question: string): Promise<boolean | undefined> => {
    if (!interactive) return undefined;
    io.err(`${question} [y/N] `);
    for await (const line of io.lines) return /^\s*y(es)?\s*$/i.test(line);
    return undefined;
  };
  try {
    return await teachLoop(os, sink, { out: io.out, err: io.err, lines: io.lines, confirm, signal: io.signal }, {
      goal, interactive, yes: values['yes'] === true, json: values['json'] === true, help: TEACH_HELP,
    });
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`llmos: ${err.code}: ${err.message}\n`);
    return exitStatusOf(err.code);
  }
}
