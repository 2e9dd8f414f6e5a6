/**
 * Start-up as a user meets it: whole `run-follower` processes running one goal that succeeds
 * ("beep", virtual time), against `node -e 0` in the same rounds. Standalone with the 24 shipped
 * traces and with 10k traces (cached), and a goal sent to a running owner; plus the goal's cost
 * inside the owner and the safety watchdog process's memory.
 */
import { whenOwnerServes } from '../../runtime/owner/status.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../lib/paths.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';
import { forwardToOwner } from '../../runtime/owner/client.js';
import { tryLock } from '../../runtime/owner/lock.js';
import { ControlServer } from '../../runtime/owner/server.js';
import { sessionHandler } from '../owner-session.js';
import { percentiles } from './core.js';
import { alternate, ratio, rssProbe, runOnce, type Measured } from './processes.js';
import { syntheticTraces, writeTraceDir } from './synthetic.js';

const ROUNDS = Number(process.env['LLMOS_BENCH_ROUNDS'] ?? 15);

function flags(dir: string): string[] {
  return ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual'];
}

async function socketUp(state: string, owner: ChildProcess): Promise<void> {
  await whenOwnerServes(state, { tries: 1200, exited: () => (owner.exitCode === null ? undefined : `bench: exit code ${owner.exitCode}`) });
}

export async function startupBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-start-'));
  const probe = rssProbe(dir);
  const bin = packagePath('dist', 'bin', 'run-follower.js');
  const small = join(dir, 'small');
  const big = join(dir, 'big');
  const fwd = join(dir, 'fwd');
  for (const d of [small, fwd]) cpSync(packagePath('traces'), join(d, 'traces'), { recursive: true });
  writeTraceDir(join(big, 'traces'), syntheticTraces(10000));
  cpSync(packagePath('traces'), join(big, 'traces'), { recursive: true });
  let owner: ChildProcess | undefined;
  try {
    const firstBig = runOnce(probe, [bin, ...flags(big), 'beep'], { cwd: big });
    runOnce(probe, [bin, ...flags(small), 'beep'], { cwd: small });
    owner = spawn(process.execPath, [bin, '--serve', ...flags(fwd)], { cwd: fwd, stdio: ['pipe', 'ignore', 'ignore'] });
    await socketUp(join(fwd, 'state'), owner);
    const m = alternate(ROUNDS, {
      node: () => runOnce(probe, ['-e', '0'], { cwd: dir }),
      standalone: () => runOnce(probe, [bin, ...flags(small), 'beep'], { cwd: small }),
      forwarded: () => runOnce(probe, [bin, ...flags(fwd), 'beep'], { cwd: fwd }),
      standalone_10k: () => runOnce(probe, [bin, ...flags(big), 'beep'], { cwd: big }),
    });
    const node = m['node'] as Measured;
    const sa = m['standalone'] as Measured;
    const fw = m['forwarded'] as Measured;
    const bg = m['standalone_10k'] as Measured;
    const watchdog = await watchdogMemory(join(dir, 'wd'));
    const check = (value: number, target: number): { value: number; target: number; met: boolean } => ({ value, target, met: value <= target });
    return {
      rounds: ROUNDS,
      // Issue 21's start-up targets, each measured in this run (wall ratios swing on a loaded
      // machine; the cpu ratios beside them are steadier).
      targets: {
        standalone_24_time_x_node: check(ratio(sa.ms, node.ms), 2.0),
        standalone_24_rss_x_node: check(ratio(sa.rss_mb, node.rss_mb), 1.25),
        sent_to_owner_time_x_node: check(ratio(fw.ms, node.ms), 1.3),
        standalone_10k_time_x_24: check(ratio(bg.ms, sa.ms), 1.5),
        standalone_10k_rss_mb: check(bg.rss_mb, 80),
      },
      node_e0: node,
      standalone_24_traces: { ...sa, time_x_node: ratio(sa.ms, node.ms), cpu_x_node: ratio(sa.cpu_ms, node.cpu_ms), rss_x_node: ratio(sa.rss_mb, node.rss_mb), watchdog_rss_mb: watchdog['rss_mb'], target: 'time <= 2.0x, rss <= 1.25x' },
      sent_to_owner: { ...fw, time_x_node: ratio(fw.ms, node.ms), cpu_x_node: ratio(fw.cpu_ms, node.cpu_ms), rss_x_node: ratio(fw.rss_mb, node.rss_mb), target: 'time <= 1.3x' },
      standalone_10k_traces_cached: { ...bg, time_x_24_traces: ratio(bg.ms, sa.ms), cpu_x_24_traces: ratio(bg.cpu_ms, sa.cpu_ms), rss_x_24_traces: ratio(bg.rss_mb, sa.rss_mb), time_x_node: ratio(bg.ms, node.ms), first_boot_no_cache_ms: Math.round(firstBig.ms), target: 'time <= 1.5x the 24-trace start, rss <= 80 MB' },
      goal_inside_owner: await insideOwner(join(dir, 'inside')),
      watchdog,
      note: 'whole processes (spawn to exit; cpu = user + system time of the process itself) running "beep" (FOLLOWER, succeeds; sim board, virtual time), medians of alternating rounds; rss is peak RSS',
    };
  } finally {
    owner?.stdin?.end();
    if (owner && owner.exitCode === null) await new Promise((r) => owner?.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A goal through the control socket, measured in the client (connect to exit message) and in execute(). */
async function insideOwner(dir: string): Promise<Record<string, unknown>> {
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const state = join(dir, 'state');
  const os = new LLMOS({ overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state }, sim: { time: 'virtual' } }, logger: silentLogger });
  await os.boot();
  const lock = await tryLock(state);
  if (!lock) throw new Error('bench: lock busy');
  const server = await ControlServer.listen(state, lock, sessionHandler(os), 'bench');
  const io = { out: () => undefined, err: () => undefined };
  try {
    const rt: number[] = [];
    const ex: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const code = await forwardToOwner(state, 'run-follower', ['--json', 'beep'], io, dir);
      if (code !== 0) throw new Error(`bench: forwarded goal exited ${String(code)}`);
      if (i >= 30) rt.push(performance.now() - t0);
      const t1 = performance.now();
      const r = await os.execute('beep', { source: 'cli' });
      if (!r.ok) throw new Error('bench: beep failed');
      if (i >= 30) ex.push(performance.now() - t1);
    }
    return { unit: 'ms', through_socket: percentiles(rt), execute_only: percentiles(ex), target: 'through_socket p50 <= 2 ms', note: 'beep (3 gate calls, audit log on) sent over the control socket: connect, session, execute, reply' };
  } finally {
    await server.close();
    await os.shutdown();
    lock.release();
  }
}

/** The safety watchdog process's resident memory while it watches a real-time runtime. */
async function watchdogMemory(dir: string): Promise<Record<string, unknown>> {
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const os = new LLMOS({ overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'real' }, safety: { audit: false } }, logger: silentLogger });
  await os.boot();
  try {
    const pid = await os.watchdogReady;
    if (pid === undefined) return { note: 'no watchdog process (disabled)' };
    const r = await os.execute('turn on the led');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss_mb: Math.round(kb('VmRSS') / 102.4) / 10, peak_rss_mb: Math.round(kb('VmHWM') / 102.4) / 10, goal_ok: r.ok };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    await os.shutdown();
  }
}
