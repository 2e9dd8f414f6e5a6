/**
 * `llmos jog` sent to the runtime that owns the board: the client sends its raw keys over the
 * control socket, the owner runs the jog session through its gate and sends the status line back.
 * A client that goes away (killed, its terminal closed) ends the session: everything comes to
 * rest at once; one that goes silent stops within a step (each lasts half the deadman window).
 */
import { exitStatusOf, toLlmosError } from '../../lib/errors.js';
import type { LLMOS } from '../../runtime/llmos.js';
import type { SessionIo } from '../../runtime/owner/server.js';
import { checkSameRuntime, SPECS } from '../owner-session.js';
import type { CommandSpec } from '../runner.js';
import { parseSub, usage } from './common.js';
import { JOG_HELP, JOG_KEYS, JOG_OPTIONS } from './jog.js';
import { jogLoop } from './jog-loop.js';

export async function jogSession(os: LLMOS, argv: readonly string[], cwd: string, io: SessionIo): Promise<number> {
  try {
    const { values, args } = parseSub(argv, JOG_OPTIONS);
    if (values['help']) { io.out(`${JOG_HELP}\n`); return 0; }
    if (args.length > 0) throw usage(`jog takes no arguments (got ${args.map((a) => JSON.stringify(a)).join(' ')}); to teach, pass --teach "<goal>"`);
    checkSameRuntime(os.config, values as Parameters<typeof checkSameRuntime>[1], SPECS['run-follower'] as Omit<CommandSpec, 'help'>, cwd);
    const goal = typeof values['teach'] === 'string' ? values['teach'] : undefined;
    const confirm = async (question: string): Promise<boolean | undefined> => {
      io.err(`${question} [y/N] `);
      // Raw keys: the answer is the next key.
      for await (const chunk of io.lines) { io.err('\n'); return /^y/i.test(chunk); }
      return undefined;
    };
    return await jogLoop(os, { out: io.out, err: io.err, keys: io.lines, confirm }, { goal, yes: values['yes'] === true, help: JOG_KEYS });
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`\r\x1b[2Kllmos: ${err.code}: ${err.message}\n`);
    return exitStatusOf(err.code);
  }
}
