/** Benchmarks of the foundation: start-up, matching, goal-to-first-write, gate overhead, memory. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../lib/clock.js';
import { packagePath } from '../../lib/paths.js';
import { SimDriver } from '../../drivers/sim/sim.js';
import { MemoryAudit } from '../../safety/audit.js';
import { loadBoardProfile } from '../../safety/board-profile.js';
import { SafetyGate } from '../../safety/gate.js';
import { buildToolCatalog } from '../../safety/tools.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';

export function percentiles(samples: number[]): { p50: number; p99: number; mean: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { p50: r(at(0.5)), p99: r(at(0.99)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), n: s.length };
}

/** From execute() to the first actuator write on the simulated board. */
export async function firstWriteBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-'));
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const os = new LLMOS({ overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'virtual' }, safety: { audit: false } }, logger: silentLogger });
  await os.boot();
  try {
    const samples: number[] = [];
    let started = 0;
    let first = -1;
    os.gate.events.on('write', () => { if (first < 0) first = performance.now() - started; });
    for (let i = 0; i < 300; i++) {
      first = -1;
      started = performance.now();
      // beep: a pwm write, then a 200 ms wait, which keeps the led/buzzer rate limits happy.
      const r = await os.execute('beep');
      if (!r.ok) throw new Error(`bench goal failed: ${r.error?.message}`);
      if (i >= 50) samples.push(first);
    }
    return { ...percentiles(samples), unit: 'ms', goal: 'beep (FOLLOWER, sim board); time from execute() to the first pwm write' };
  } finally {
    await os.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The gate's own cost per call: gate.call() minus the bare driver write it performs. */
export async function gateBench(): Promise<Record<string, unknown>> {
  const profile = loadBoardProfile('sim');
  // Simulated time, advanced between calls (outside the timed part), keeps the per-actuator
  // command rate limit out of the measurement.
  const clock = new VirtualClock();
  const driver = new SimDriver({ clock });
  await driver.open([...profile.actuators.values()], [...profile.sensors.values()]);
  const led = profile.actuators.get('led');
  if (!led) throw new Error('sim board has no led');
  profile.actuators.set('led', { ...led, max_commands_per_s: 10000 });
  const gate = new SafetyGate({
    profile, drivers: new Map([['sim', driver]]), clock, catalog: buildToolCatalog(profile, { systemTools: false }),
    audit: new MemoryAudit(1000), deadmanMs: 500,
  });
  const ctx = { source: 'api' as const, runId: 'bench' };
  const N = 20000;
  const direct: number[] = [];
  const gated: number[] = [];
  for (let i = 0; i < N + 2000; i++) {
    const s = performance.now();
    await driver.write({ actuator: led }, i % 2 === 0);
    if (i >= 2000) direct.push((performance.now() - s) * 1000);
  }
  for (let i = 0; i < N + 2000; i++) {
    if (i % 50 === 0) await clock.advance(10);
    const s = performance.now();
    await gate.call({ name: 'digital_write', args: { actuator: 'led', value: i % 2 === 0 } }, ctx);
    if (i >= 2000) gated.push((performance.now() - s) * 1000);
  }
  const d = percentiles(direct);
  const g = percentiles(gated);
  await driver.close();
  return {
    unit: 'µs', gate_call: g, driver_write: d,
    overhead_median_us: Math.round((g.p50 - d.p50) * 100) / 100,
    note: 'digital_write through the full gate (schema check, e-stop, hooks, rate limit, interlocks, range, audit) vs the sim driver write alone',
  };
}
