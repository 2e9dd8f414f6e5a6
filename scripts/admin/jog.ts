/**
 * llmos jog: drive the board from the keyboard. Keys move the selected actuator in small steps
 * through the safety gate (every bound, hooks, e-stop and the deadman apply); a status line shows
 * the selection, the e-stop, what moves and the sensors. `--teach "<goal>"` records the steps
 * (a held key becomes one call of its whole distance, angle or duration) as a trace.
 */
import { stringify as stringifyYaml } from 'yaml';
import { toLlmosError } from '../../lib/errors.js';
import type { LLMOS } from '../../runtime/llmos.js';
import { jogAction, jogTargets, keyName, type JogTarget } from '../../runtime/operator/jog-keys.js';
import { TeachRecorder } from '../../runtime/operator/teach.js';
import type { ToolCall } from '../../safety/gate.js';
import { TOOL_UNITS } from '../../safety/tools.js';
import { COMMON_HELP, configFrom, parseSub, usage, type Io } from './common.js';

export const JOG_HELP = `llmos jog: move the board from the keyboard, through the safety gate.

Usage:
  llmos jog [--teach "<goal>" [--yes]] [--board FILE|sim] [--sim-log FILE] ...

Keys:
  Tab, 1-9        select the actuator (the status line shows which)
  arrows, w a s d base: drive forward/back, turn left/right; servo and pwm: step up/down;
                  motor: run forward/back for a moment; digital output: up on, down off
  + -             double / halve the step
  space           stop all motion        x  engage the e-stop      r  release it
  ?               this help              q, Ctrl-C  quit (everything comes to rest)
Holding a key repeats its step; letting go stops within one step (the deadman bounds it too).

Options:
  --teach "<goal>"   record what you do as a trace for <goal>; shown at the end and saved when
                     you confirm (or at once with --yes)
  -y, --yes          save the taught trace without asking
  --sim-log FILE     record the sim board's writes      --sim-time real|virtual
  --twins            real drivers against their twins
${COMMON_HELP}

Exit status: 0 done (and saved, with --teach), 1 not saved or a failure, 2 bad usage or configuration.`;

const OPTIONS = {
  teach: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'sim-log': { type: 'string' },
  'sim-time': { type: 'string' },
  twins: { type: 'boolean' },
} as const;

function numberOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

class JogScreen {
  private readonly io: Io;
  private readonly os: LLMOS;
  private readonly targets: JogTarget[];
  index = 0;
  scale = 1;
  note = '';
  /** Calls the gate executed (the status line shows it; tests wait for it). */
  steps = 0;
  sensors = new Map<string, string>();

  constructor(io: Io, os: LLMOS, targets: JogTarget[]) {
    this.io = io;
    this.os = os;
    this.targets = targets;
  }

  get target(): JogTarget | undefined { return this.targets[this.index]; }

  status(): string {
    const t = this.target;
    const e = this.os.gate.estopStatus;
    const snap = this.os.gate.actuatorSnapshot();
    const moving = Object.entries(snap).filter(([, v]) => (typeof v === 'number' && v !== 0) || v === true || (v !== null && typeof v === 'object' && Object.values(v).some((x) => x !== 0 && x !== null && x !== false))).map(([k]) => k);
    const value = t ? snap[t.name] : undefined;
    const shown = value === undefined || value === null ? '-' : typeof value === 'object' ? Object.values(value).map((x) => (typeof x === 'number' ? x.toFixed(2) : String(x))).join('/') : typeof value === 'number' ? String(Number(value.toFixed(2))) : String(value);
    const sensors = [...this.sensors].map(([k, v]) => `${k} ${v}`).join(', ');
    return `[${this.index + 1}/${this.targets.length} ${t ? `${t.name} ${t.kind}` : 'nothing to jog'} = ${shown}] step x${this.scale} | steps ${this.steps} | e-stop ${e.engaged ? 'ENGAGED' : 'off'} | moving: ${moving.join(', ') || 'none'}${sensors ? ` | ${sensors}` : ''}${this.note ? ` | ${this.note}` : ''}`;
  }

  draw(): void {
    this.io.err(`\r\x1b[2K${this.status()}`);
  }

  say(line: string): void {
    this.io.err(`\r\x1b[2K${line}\n`);
    this.draw();
  }
}

async function readSensors(os: LLMOS, screen: JogScreen): Promise<void> {
  for (const name of os.profile.sensors.keys()) {
    try {
      const r = await os.gate.call({ name: 'sensor_read', args: { sensor: name } }, { source: 'api', runId: 'jog-status' });
      const v = r.value as { value?: unknown; unit?: string };
      const n = numberOf(v.value);
      screen.sensors.set(name, `${n !== undefined ? Number(n.toFixed(2)) : String(v.value)}${v.unit ? ` ${v.unit}` : ''}`);
    } catch {
      screen.sensors.set(name, '?');
    }
  }
}

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
  const { installProcessGuards } = await import('../../runtime/process-guard.js');
  const unguard = installProcessGuards(os);
  const targets = jogTargets(os.profile);
  const screen = new JogScreen(io, os, targets);
  let busy = false;
  let pending: string | undefined;
  // The same key again, with no other key between, continues one motion: teach records it as one.
  let lastKey = '';
  let finish: (() => void) | undefined;
  const done = new Promise<void>((resolve) => { finish = resolve; });

  const currentOf = (t: JogTarget | undefined): number | undefined => {
    if (!t) return undefined;
    return numberOf(os.gate.actuatorSnapshot()[t.name]);
  };

  const runCall = async (call: ToolCall, held: boolean): Promise<void> => {
    busy = true;
    try {
      await os.callTool(call, { source: 'operator' });
      recorder?.add({ ...call, held });
      screen.steps++;
      screen.note = '';
    } catch (e) {
      const err = toLlmosError(e);
      screen.note = `${err.code}: ${err.message}`;
    } finally {
      busy = false;
      screen.draw();
      const next = pending;
      pending = undefined;
      if (next) handle(next);
    }
  };

  const handle = (key: string): void => {
    if (busy && jogAction(key, screen.target, undefined, screen.scale).kind === 'call') {
      // A held key repeats faster than steps finish: keep only the newest press waiting.
      pending = key;
      return;
    }
    const action = jogAction(key, screen.target, currentOf(screen.target), screen.scale);
    const held = action.kind === 'call' && key === lastKey;
    lastKey = action.kind === 'call' || action.kind === 'none' ? key : '';
    switch (action.kind) {
      case 'call':
        void runCall(action.call, held);
        return;
      case 'stop':
        pending = undefined;
        void os.stopMotion('jog: space').then(() => screen.say('stopped'));
        return;
      case 'estop':
        pending = undefined;
        void os.estop('operator (jog)', 'cli').then(() => screen.say('e-stop engaged: r releases it'));
        return;
      case 'release':
        screen.say(os.releaseEstop('cli') ? 'e-stop released' : 'the e-stop was not engaged');
        return;
      case 'select':
        if (action.index < targets.length) screen.index = action.index;
        break;
      case 'next':
        screen.index = targets.length ? (screen.index + 1) % targets.length : 0;
        break;
      case 'scale':
        screen.scale = Math.min(8, Math.max(0.125, screen.scale * action.factor));
        break;
      case 'help':
        screen.say(JOG_HELP.split('\n').slice(4, 13).join('\n'));
        return;
      case 'quit':
        finish?.();
        return;
      case 'none':
        return;
    }
    screen.draw();
  };

  const onData = (data: Buffer): void => {
    // Several keys can arrive in one read (fast repeats, pasted text): split escape sequences out.
    const text = data.toString('utf8');
    for (const m of text.matchAll(/\x1b(?:\[|O)[A-D]|[\s\S]/g)) handle(keyName(m[0]));
  };

  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onData);
  const statusTimer = setInterval(() => { void readSensors(os, screen).then(() => screen.draw()); }, 1000);
  io.err(`jogging ${os.profile.name}: ? for keys, q to quit${goal ? `; teaching "${goal}"` : ''}\n`);
  await readSensors(os, screen);
  screen.draw();
  try {
    await done;
  } finally {
    clearInterval(statusTimer);
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
    io.err('\r\x1b[2K');
    await os.stopMotion('jog: quit').catch(() => undefined);
  }
  try {
    if (!recorder) return 0;
    if (recorder.recorded.length === 0) { io.err(`llmos jog: nothing was recorded for "${goal}"; nothing saved\n`); return 1; }
    const trace = recorder.toTrace((tool, arg) => os.catalog.get(tool)?.units[arg] ?? TOOL_UNITS[tool]?.[arg], os.clock.wallNow());
    io.err(stringifyYaml(trace));
    if (values['yes'] !== true) {
      io.err(`save this trace for "${goal}"? [y/N] `);
      const answer = await new Promise<string>((resolve) => { stdin.setRawMode(true); stdin.resume(); stdin.once('data', (d: Buffer) => { stdin.setRawMode(false); stdin.pause(); resolve(d.toString()); }); });
      io.err('\n');
      if (!/^y/i.test(answer)) { io.err('llmos jog: not saved\n'); return 1; }
    }
    const rec = await os.traces.save(trace, `Taught by demonstration (jog) for "${goal}" (${recorder.recorded.length} calls).`);
    io.out(`saved ${rec.file} (${rec.trace.goal_signature})\n`);
    return 0;
  } finally {
    await os.shutdown('done');
    unguard();
    lock?.release();
  }
}
