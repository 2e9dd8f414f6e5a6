/**
 * The gate's overhead per call, against the bare sim driver write it performs. It needs the bare
 * driver as its baseline, so it is one of the two bench modules allowed to import a driver
 * (test/architecture.test.ts); everything else reaches drivers through safety/.
 */
import { VirtualClock } from '../../lib/clock.js';
import { SimDriver } from '../../drivers/sim/sim.js';
import { MemoryAudit } from '../../safety/audit.js';
import { loadBoardProfile } from '../../safety/board-profile.js';
import { SafetyGate } from '../../safety/gate.js';
import { buildToolCatalog } from '../../safety/tools/index.js';
import { percentiles } from './core.js';

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
