/**
 * The jog session's loop, shared by `llmos jog` on its own and `llmos jog` sent to the runtime
 * that owns the board (scripts/admin/jog-owner.ts): key chunks in, steps through the gate, the
 * status line out. It ends at q / Ctrl-C, or when the keys end (the terminal or the client went
 * away): then everything comes to rest. Each step lasts about half the deadman window, so a key
 * that stops arriving (released, or a client that went silent) stops motion within one step.
 */
import { yamlLib } from '../../lib/yaml-file.js';
import type { LLMOS } from '../../runtime/llmos.js';
import { keyName, splitKeys } from '../../runtime/operator/jog-keys.js';
import { JogSession } from '../../runtime/operator/jog-session.js';
import { assertGoalFree, TeachRecorder } from '../../runtime/operator/teach.js';
import { unitLookup } from '../../safety/tools/index.js';

export interface JogLoopIo {
  out(text: string): void;
  err(text: string): void;
  /** Raw key chunks as the terminal sends them. */
  keys: AsyncIterable<string>;
  confirm(question: string): Promise<boolean | undefined>;
}

export async function jogLoop(os: LLMOS, io: JogLoopIo, o: { goal: string | undefined; yes: boolean; help: string }): Promise<number> {
  const { goal } = o;
  const recorder = goal !== undefined ? new TeachRecorder(goal) : undefined;
  if (goal !== undefined) assertGoalFree(os.traces, goal);
  const sensors = new Map<string, string>();
  let session: JogSession | undefined;
  const draw = (): void => { if (session) io.err(`\r\x1b[2K${statusLine(os, session, sensors)}`); };
  session = new JogSession(os, { changed: draw, say: (line) => { io.err(`\r\x1b[2K${line}\n`); draw(); } }, recorder);
  const s = session;
  let reading = false;
  const refresh = async (): Promise<void> => {
    if (reading) return; // a slow sensor never piles reads up
    reading = true;
    try { await readSensors(os, sensors); } finally { reading = false; }
    draw();
  };
  const statusTimer = setInterval(() => { void refresh(); }, 1000);
  io.err(`jogging ${os.profile.name}: ? for keys, q to quit${goal ? `; teaching "${goal}"` : ''}\n`);
  try {
    await refresh();
    keys: for await (const chunk of io.keys) {
      for (const raw of splitKeys(chunk)) {
        const key = keyName(raw);
        if (key === 'quit' || key === 'q') break keys;
        if (key === '?' || key === 'h') { io.err(`\r\x1b[2K${o.help}\n`); draw(); continue; }
        s.handle(key);
      }
    }
  } finally {
    clearInterval(statusTimer);
    await s.quit();
    io.err('\r\x1b[2K');
  }
  if (!recorder) return 0;
  if (recorder.recorded.length === 0) { io.err(`llmos jog: nothing was recorded for "${goal}"; nothing saved\n`); return 1; }
  const trace = recorder.toTrace(unitLookup(os.catalog), os.clock.wallNow());
  io.err(yamlLib().stringify(trace));
  if (!o.yes && (await io.confirm(`save this trace for "${goal}"?`)) !== true) { io.err('llmos jog: not saved\n'); return 1; }
  const rec = await os.traces.save(trace, `Taught by demonstration (jog) for "${goal}" (${recorder.recorded.length} calls).`);
  // A runtime that keeps serving (the owner) matches the new trace at once.
  os.matcher.upsert(rec);
  io.out(`saved ${rec.file} (${rec.trace.goal_signature})\n`);
  return 0;
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
