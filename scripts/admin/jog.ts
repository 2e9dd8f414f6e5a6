/**
 * llmos jog: drive the board from the keyboard. Keys move the selected actuator in small steps
 * through the safety gate (every bound, hooks, e-stop and the deadman apply); a status line shows
 * the selection, the e-stop, what moves and the sensors. `--teach "<goal>"` records the steps
 * (a held key becomes one call of its whole distance, angle or duration) as a trace.
 */
import { yamlLib } from '../../lib/yaml-file.js';
import type { LLMOS } from '../../runtime/llmos.js';
import { keyName, splitKeys } from '../../runtime/operator/jog-keys.js';
import { JogSession } from '../../runtime/operator/jog-session.js';
import { assertGoalFree, TeachRecorder } from '../../runtime/operator/teach.js';
import { unitLookup } from '../../safety/tools/index.js';
import { COMMON_HELP, configFrom, confirmOnTerminal, parseSub, SIM_HELP, SIM_OPTIONS, usage, type Io } from './common.js';

const JOG_KEYS = `Keys:
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

Exit status: 0 done (and saved, with --teach), 1 not saved or a failure, 2 bad usage or configuration.`;

const OPTIONS = {
  teach: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  ...SIM_OPTIONS,
} as const;

export async function jogCommand(argv: readonly string[], io: Io, stdin: NodeJS.ReadStream = process.stdin): Promise<number> {
  const { values, args } = parseSub(argv, OPTIONS);
  if (values['help']) { io.out(`${JOG_HELP}\n`); return 0; }
  if (args.length > 0) throw usage(`jog takes no arguments (got ${args.map((a) => JSON.stringify(a)).join(' ')}); to teach, pass --teach "<goal>"`);
  if (!stdin.isTTY) throw usage('jog needs a terminal (keys); in scripts send ":call <tool> name=value" lines to run-follower - or llmos teach --yes -');
  const goal = typeof values['teach'] === 'string' ? values['teach'] : undefined;
  const recorder = goal !== undefined ? new TeachRecorder(goal) : undefined;
  const { LLMOS: Runtime } = await import('../../runtime/llmos.js');
  const config = configFrom(values);
  // It moves actuators: only with the board to itself (refused while a runtime owns it).
  const { ownOrForward } = await import('../owner-start.js');
  const owner = await ownOrForward('llmos jog', argv, config.paths.state, 'standalone');
  const lock = 'lock' in owner ? owner.lock : undefined;
  const os = new Runtime({ config });
  await os.boot().catch((e: unknown) => { lock?.release(); throw e; });
  // SIGTERM/SIGHUP while jogging: everything comes to rest as for any run.
  const { installProcessGuards } = await import('../lib/process-guard.js');
  const unguard = installProcessGuards(os);
  try {
    if (goal !== undefined) assertGoalFree(os.traces, goal);
    const sensors = new Map<string, string>();
    let session: JogSession | undefined;
    const draw = (): void => { if (session) io.err(`\r\x1b[2K${statusLine(os, session, sensors)}`); };
    session = new JogSession(os, { changed: draw, say: (line) => { io.err(`\r\x1b[2K${line}\n`); draw(); } }, recorder);
    const s = session;
    let quit: (() => void) | undefined;
    const quitting = new Promise<void>((resolve) => { quit = resolve; });
    const onData = (data: Buffer): void => {
      for (const raw of splitKeys(data.toString('utf8'))) {
        const key = keyName(raw);
        if (key === 'quit' || key === 'q') { quit?.(); return; }
        if (key === '?' || key === 'h') { io.err(`\r\x1b[2K${JOG_KEYS}\n`); draw(); continue; }
        s.handle(key);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
    let reading = false;
    const refresh = async (): Promise<void> => {
      if (reading) return; // a slow sensor never piles reads up
      reading = true;
      try { await readSensors(os, sensors); } finally { reading = false; }
      draw();
    };
    const statusTimer = setInterval(() => { void refresh(); }, 1000);
    io.err(`jogging ${os.profile.name}: ? for keys, q to quit${goal ? `; teaching "${goal}"` : ''}\n`);
    await refresh();
    try {
      await quitting;
    } finally {
      clearInterval(statusTimer);
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      await s.quit();
      io.err('\r\x1b[2K');
    }
    if (!recorder) return 0;
    if (recorder.recorded.length === 0) { io.err(`llmos jog: nothing was recorded for "${goal}"; nothing saved\n`); return 1; }
    const trace = recorder.toTrace(unitLookup(os.catalog), os.clock.wallNow());
    io.err(yamlLib().stringify(trace));
    if (values['yes'] !== true && (await confirmOnTerminal(io, `save this trace for "${goal}"?`)) !== true) { io.err('llmos jog: not saved\n'); return 1; }
    const rec = await os.traces.save(trace, `Taught by demonstration (jog) for "${goal}" (${recorder.recorded.length} calls).`);
    io.out(`saved ${rec.file} (${rec.trace.goal_signature})\n`);
    return 0;
  } finally {
    await os.shutdown('done');
    unguard();
    lock?.release();
  }
}

function statusLine(os: LLMOS, s: JogSession, sensors: ReadonlyMap<string, string>): string {
  const t = s.target;
  const e = os.gate.estopStatus;
  const value = t ? os.gate.actuatorSnapshot()[t.name] : undefined;
  const shown = value === undefined || value === null ? '-'
    : typeof value === 'object' ? Object.values(value).map((x) => (typeof x === 'number' ? x.toFixed(2) : String(x))).join('/')
    : typeof value === 'number' ? String(Number(value.toFixed(2))) : String(value);
  const readings = [...sensors].map(([k, v]) => `${k} ${v}`).join(', ');
  return `[${s.index + 1}/${s.targets.length} ${t ? `${t.name} ${t.kind}` : 'nothing to jog'} = ${shown}] speed x${s.scale} | steps ${s.steps} | e-stop ${e.engaged ? 'ENGAGED' : 'off'} | moving: ${s.moving().join(', ') || 'none'}${readings ? ` | ${readings}` : ''}${s.note ? ` | ${s.note}` : ''}`;
}

/** One reading of every sensor for the status line (through the gate; refusals shown as "?"). */
async function readSensors(os: LLMOS, into: Map<string, string>): Promise<void> {
  for (const name of os.profile.sensors.keys()) {
    try {
      const r = await os.gate.call({ name: 'sensor_read', args: { sensor: name } }, { source: 'api', runId: 'jog-status', quiet: true });
      const v = r.value as { value?: unknown; unit?: string };
      into.set(name, `${typeof v.value === 'number' ? Number(v.value.toFixed(2)) : String(v.value)}${v.unit ? ` ${v.unit}` : ''}`);
    } catch {
      into.set(name, '?');
    }
  }
}
