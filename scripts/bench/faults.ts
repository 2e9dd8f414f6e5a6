/**
 * Faults to safe values: for each way a run can be interrupted (signals to the group or the pid,
 * SIGTERM with a goal queued or the broker frozen, kill -9, a stall, a silent broker), the time
 * from the fault until both wheels of the sim board read 0 in the sim log, as seen by this
 * process polling the log. The baseline is an e-stop (SIGUSR1) in the same run: its controlled
 * ramp is what every stop costs, so `over_baseline_ms` is what the fault adds on top.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packagePath } from '../../lib/paths.js';
import { mosquittoPath, startMosquitto, type TestBroker } from '../local-broker.js';

interface Line { t: number; actuator: string; channel?: string; value: unknown; source?: string }

const N = Number(process.env['LLMOS_BENCH_FAULTS_N'] ?? 5);

function lines(log: string): Line[] {
  if (!existsSync(log)) return [];
  const out: Line[] = [];
  for (const l of readFileSync(log, 'utf8').split('\n')) {
    if (!l) continue;
    try { out.push(JSON.parse(l) as Line); } catch { /* a line being written */ }
  }
  return out;
}

function wheels(log: string): { moving: boolean; atRest: boolean; maxSpeed: number; writes: Line[] } {
  const base = lines(log).filter((l) => l.actuator === 'base');
  const last = (ch: string): unknown => base.filter((l) => l.channel === ch).at(-1)?.value;
  const maxSpeed = Math.max(0, ...base.map((l) => Math.abs(Number(l.value))));
  return { moving: base.some((l) => Number(l.value) !== 0), atRest: last('left') === 0 && last('right') === 0, maxSpeed, writes: base };
}

async function until(pred: () => boolean, ms: number, pollMs = 2): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(pollMs);
  }
  return pred();
}

interface Runtime { child: ChildProcess; log: string; dir: string; exited: Promise<void>; out: () => string }

function runtime(args: string[], options: { detached?: boolean; config?: string } = {}): Runtime {
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-faults-'));
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const log = join(dir, 'sim.jsonl');
  const cfg: string[] = [];
  if (options.config) {
    writeFileSync(join(dir, 'c.yaml'), options.config);
    cfg.push('--config', join(dir, 'c.yaml'));
  }
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log, ...cfg, ...args], { stdio: ['pipe', 'ignore', 'pipe'], detached: options.detached ?? false });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, log, dir, exited, out: () => out };
}

async function finish(r: Runtime): Promise<void> {
  r.child.kill('SIGKILL');
  await r.exited;
  // After a kill -9 the watchdog process may still be appending its safe writes.
  try { rmSync(r.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }); } catch { /* left in tmp */ }
}

function stats(samples: number[], baseline?: number): Record<string, number> {
  const s = [...samples].sort((a, b) => a - b);
  const p50 = s[Math.floor(s.length / 2)] ?? NaN;
  const max = s.at(-1) ?? NaN;
  return { n: s.length, p50, max, ...(baseline !== undefined ? { over_baseline_ms: p50 - baseline } : {}) };
}

/** Samples that did not reach safe values (or never moved), with why: a failure, not a slow stop. */
const failures: string[] = [];

/**
 * One sample: start, wait until driving at cruise speed (> `speed`; every stop then ramps from
 * the same speed), fault, time to both wheels at rest.
 */
async function sample(start: () => Promise<Runtime>, fault: (r: Runtime) => void | Promise<void>, speed = 0.55): Promise<number | undefined> {
  const r = await start();
  try {
    if (!(await until(() => wheels(r.log).maxSpeed > speed, 30000, 5))) { failures.push(`never moved: ${r.out().slice(-300)}`); return undefined; }
    const at = Date.now();
    await fault(r);
    if (!(await until(() => wheels(r.log).atRest, 30000))) { failures.push(`not at rest 30 s after the fault: ${JSON.stringify(wheels(r.log).writes.slice(-2))} ${r.out().slice(-300)}`); return undefined; }
    return Date.now() - at;
  } finally {
    await finish(r);
  }
}

async function series(start: () => Promise<Runtime>, fault: (r: Runtime) => void | Promise<void>, speed?: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const ms = await sample(start, fault, speed);
    if (ms !== undefined) out.push(ms);
  }
  return out;
}

const drive = (extra: string[] = [], options: { detached?: boolean; config?: string } = {}) => async (): Promise<Runtime> => runtime([...extra, 'drive forward 5 meters'], options);

export async function faultsBench(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  // Baseline: an e-stop's controlled ramp (SIGUSR1), the cost of any stop.
  const baseline = stats(await series(drive(), (r) => { r.child.kill('SIGUSR1'); }));
  result['baseline_estop_ramp'] = baseline;
  const b = baseline['p50'];
  // Ctrl-C in a terminal: SIGINT to the whole foreground process group.
  result['ctrl_c_to_group'] = stats(await series(drive([], { detached: true }), (r) => { process.kill(-(r.child.pid as number), 'SIGINT'); }), b);
  result['sigint_to_pid'] = stats(await series(drive(), (r) => { r.child.kill('SIGINT'); }), b);
  result['sigterm_to_pid'] = stats(await series(drive(), (r) => { r.child.kill('SIGTERM'); }), b);
  let queuedWrote = 0;
  result['sigterm_with_queued_goal'] = {
    ...stats(await series(async () => {
      const r = runtime(['-']);
      r.child.stdin?.write('drive forward 5 meters\ndrive backward 2 meters\n');
      return r;
    }, (r) => {
      r.child.kill('SIGTERM');
      // Checked once the process is gone; the time measured is to safe values, not to the exit.
      void r.exited.then(() => { if (wheels(r.log).writes.some((l) => Number(l.value) < 0)) queuedWrote++; });
    }), b),
    queued_goal_wrote: queuedWrote,
  };
  // kill -9: the watchdog process writes the safe values (a cut, no ramp).
  result['kill9_at_first_write'] = stats(await series(drive(), (r) => { r.child.kill('SIGKILL'); }, 0));
  result['kill9_mid_run'] = stats(await series(drive(), (r) => { r.child.kill('SIGKILL'); }));
  if (mosquittoPath()) {
    let broker: TestBroker | undefined;
    try {
      broker = await startMosquitto();
      const pid = broker.pid?.() as number;
      const withBroker = async (config?: string): Promise<Runtime> => {
        const r = runtime(['--serve', '--mqtt', (broker as TestBroker).url], config ? { config } : {});
        await until(() => /mqtt: connected/.test(r.out()), 30000, 10);
        r.child.stdin?.write('drive forward 5 meters\n');
        return r;
      };
      result['sigterm_frozen_broker'] = stats(await series(() => withBroker(), (r) => {
        process.kill(pid, 'SIGSTOP');
        r.child.kill('SIGTERM');
      }).finally(() => process.kill(pid, 'SIGCONT')), b);
      const silent: number[] = [];
      for (let i = 0; i < N; i++) {
        const ms = await sample(() => withBroker('safety: { broker_loss: { action: stop, after_ms: 2000 } }\n'), () => { process.kill(pid, 'SIGSTOP'); }).finally(() => process.kill(pid, 'SIGCONT'));
        if (ms !== undefined) silent.push(ms);
      }
      result['silent_broker'] = { ...stats(silent), window_ms: 2000, target_ms: 4000 };
    } finally {
      await broker?.stop();
    }
  } else {
    result['sigterm_frozen_broker'] = { skipped: 'mosquitto is not installed' };
    result['silent_broker'] = { skipped: 'mosquitto is not installed' };
  }
  result['stall_during_motion'] = await stallBench();
  result['failures'] = failures;
  result['unit'] = 'ms';
  result['note'] = 'fault -> both wheels at 0 in the sim log (polled every 2 ms); over_baseline_ms = p50 minus the e-stop ramp p50 (target: at most 50)';
  return result;
}

/** A stall mid-drive (the event loop blocked): time to the watchdog process's safe write. */
async function stallBench(): Promise<Record<string, unknown>> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { LLMOS } = await import('../../runtime/llmos.js');
  const { silentLogger } = await import('../../runtime/logger.js');
  const samples: number[] = [];
  const deadman = 500;
  for (let i = 0; i < N; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-stall-'));
    cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
    const log = join(dir, 'sim.jsonl');
    const os = new LLMOS({ config: loadConfig({ cwd: dir, overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'real', log }, safety: { deadman_ms: deadman, audit: false }, logging: { level: 'silent' } } }), logger: silentLogger });
    await os.boot();
    await os.watchdogReady;
    const run = os.gate.call({ name: 'drive', args: { distance_m: 3 } }, { source: 'api', runId: 'bench' }).catch(() => undefined);
    await until(() => wheels(log).maxSpeed > 0.3, 10000, 5);
    const mark = lines(log).at(-1)?.t ?? 0;
    const end = Date.now() + 3 * deadman;
    while (Date.now() < end) { /* the event loop is stuck */ }
    const stop = lines(log).find((l) => l.source === 'watchdog');
    if (stop) samples.push(Math.round(stop.t - mark));
    await run;
    await os.shutdown();
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }); } catch { /* left in tmp */ }
  }
  return { ...stats(samples), deadman_ms: deadman, target_ms: 2 * deadman, note: 'last runtime write before the stall -> the watchdog process\'s safe write (sim log time)' };
}
