/**
 * llmos jog: drive the board from the keyboard. Keys move the selected actuator in small steps
 * through the safety gate (every bound, hooks, e-stop and the deadman apply); a status line shows
 * the selection, the e-stop, what moves and the sensors. `--teach "<goal>"` records the steps
 * (a held key becomes one call of its whole distance, angle or duration) as a trace.
 */
import { TeachRecorder } from '../../runtime/operator/teach.js';
import { COMMON_HELP, configFrom, confirmOnTerminal, parseSub, SIM_HELP, SIM_OPTIONS, usage, type Io } from './common.js';
import { jogLoop } from './jog-loop.js';

export const JOG_KEYS = `Keys:
  Tab, 1-9        select the actuator (the status line shows which)
  arrows, w a s d base: drive forward/back, turn left/right; servo and pwm: step up/down;
                  motor: run forward/back for a moment; digital output: up on, down off
  + -             double / halve the speed of a step (0.25x to 3x)
  space           stop all motion        x  engage the e-stop      r r  release it (twice)
  ?               this help              q, Ctrl-C  quit (everything comes to rest)
Each step lasts about half the actuator's deadman window: holding a key repeats its step, and
letting go stops motion within one step.`;

export const JOG_HELP = `llmos jog: move the board from the keyboard, through the safety gate.

Usage:
  llmos jog [--teach "<goal>" [--yes]] [--board FILE|sim] [--sim-log FILE] ...

${JOG_KEYS}

Options:
  --teach "<goal>"   record what you do as a trace for <goal>; shown at the end and saved when
                     you confirm (or at once with --yes)
  -y, --yes          save the taught trace without asking
${SIM_HELP}
${COMMON_HELP}

While a runtime owns the board (run-follower --serve), the keys go to it over its control socket
and it runs the session through its gate; if this client dies, motion stops at once.

Exit status: 0 done (and saved, with --teach), 1 not saved or a failure, 2 bad usage or configuration.`;

export const JOG_OPTIONS = {
  teach: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  ...SIM_OPTIONS,
} as const;

export async function jogCommand(argv: readonly string[], io: Io, stdin: NodeJS.ReadStream = process.stdin): Promise<number> {
  const { values, args } = parseSub(argv, JOG_OPTIONS);
  if (values['help']) { io.out(`${JOG_HELP}\n`); return 0; }
  if (args.length > 0) throw usage(`jog takes no arguments (got ${args.map((a) => JSON.stringify(a)).join(' ')}); to teach, pass --teach "<goal>"`);
  if (!stdin.isTTY) throw usage('jog needs a terminal (keys); in scripts send ":call <tool> name=value" lines to run-follower - or llmos teach --yes -');
  const goal = typeof values['teach'] === 'string' ? values['teach'] : undefined;
  if (goal !== undefined) void new TeachRecorder(goal); // an empty goal is ERR_USAGE before anything starts
  const config = configFrom(values);
  // A runtime that owns the board runs the session; this process only sends keys and shows its
  // status (scripts/admin/jog-owner.ts). Raw mode first: keys go out as typed.
  stdin.setRawMode(true);
  let forwarded: number | undefined;
  try {
    const { forwardToOwner } = await import('../../runtime/owner/client.js');
    forwarded = await forwardToOwner(config.paths.state, 'llmos jog', argv, { out: io.out, err: io.err, stdin, raw: true });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
  if (forwarded !== undefined) return forwarded;
  const { LLMOS: Runtime } = await import('../../runtime/llmos.js');
  const { ownOrForward } = await import('../owner-start.js');
  const owner = await ownOrForward('llmos jog', argv, config.paths.state, 'standalone');
  const lock = 'lock' in owner ? owner.lock : undefined;
  const os = new Runtime({ config });
  await os.boot().catch((e: unknown) => { lock?.release(); throw e; });
  // SIGTERM/SIGHUP while jogging: everything comes to rest as for any run.
  const { installProcessGuards } = await import('../lib/process-guard.js');
  const unguard = installProcessGuards(os);
  const keys = stdinKeys(stdin);
  stdin.setRawMode(true);
  try {
    return await jogLoop(os, { out: io.out, err: io.err, keys: keys.iterable, confirm: (q) => confirmOnTerminal(io, q) }, { goal, yes: values['yes'] === true, help: JOG_KEYS });
  } finally {
    keys.close();
    stdin.setRawMode(false);
    stdin.pause();
    await os.shutdown('done');
    unguard();
    lock?.release();
  }
}

/** Raw key chunks from the terminal as an async iterable (ends at close). */
function stdinKeys(stdin: NodeJS.ReadStream): { iterable: AsyncIterable<string>; close(): void } {
  const chunks: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const onData = (d: Buffer): void => { chunks.push(d.toString('utf8')); wake?.(); };
  const onEnd = (): void => { closed = true; wake?.(); };
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return {
    iterable: (async function* () {
      for (;;) {
        const c = chunks.shift();
        if (c !== undefined) { yield c; continue; }
        if (closed) return;
        await new Promise<void>((r) => { wake = r; });
        wake = undefined;
      }
    })(),
    close() { closed = true; stdin.off('data', onData); stdin.off('end', onEnd); wake?.(); },
  };
}

