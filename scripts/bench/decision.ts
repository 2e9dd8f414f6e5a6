/**
 * The gate as it runs on a board (audit log written to a file, not kept in memory): mean and p99
 * per call, and the amortised cost with the log's writes included; and the full decision for a
 * goal (analysis, match, dispatch, parameter binding), not only the match.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../lib/clock.js';
import { packagePath } from '../../lib/paths.js';
import { FileAudit } from '../../safety/audit.js';
import { loadBoardProfile } from '../../safety/board-profile.js';
import { openSafetyGate } from '../../safety/open.js';
import { buildToolCatalog } from '../../safety/tools/index.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';
import { percentiles } from './core.js';
import { syntheticGoals, syntheticTraces, writeTraceDir } from './synthetic.js';

export async function gateAuditBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-gate-'));
  const profile = loadBoardProfile('sim');
  const clock = new VirtualClock();
  const led = profile.actuators.get('led');
  if (!led) throw new Error('sim board has no led');
  profile.actuators.set('led', { ...led, max_commands_per_s: 10000 });
  const audit = new FileAudit(join(dir, 'audit.jsonl'));
  // Through the same door as the runtime: the gate opens the sim board's driver itself.
  const gate = await openSafetyGate({ profile, clock, catalog: buildToolCatalog(profile, { systemTools: false }), audit, deadmanMs: 500 });
  const ctx = { source: 'api' as const, runId: 'bench' };
  const N = 20000;
  const per: number[] = [];
  let total = 0;
  try {
    for (let i = 0; i < N + 2000; i++) {
      if (i % 50 === 0) {
        await clock.advance(10);
        // Lets the audit log's batched write run, inside the amortised time.
        await new Promise((r) => setImmediate(r));
      }
      const s = performance.now();
      await gate.call({ name: 'digital_write', args: { actuator: 'led', value: i % 2 === 0 } }, ctx);
      const d = performance.now() - s;
      if (i >= 2000) per.push(d * 1000);
      if (i === 2000) total = performance.now();
    }
    audit.flushSync();
    const amortised = ((performance.now() - total) * 1000) / N;
    return {
      unit: 'µs', per_call: percentiles(per), amortised_mean_us: Math.round(amortised * 100) / 100,
      note: 'digital_write through the full gate with the audit log written to a file (batched appends); amortised = wall time of the whole loop per call, the log\'s writes included',
    };
  } finally {
    await gate.close('bench done');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** decide(): what a goal costs before anything moves, with the shipped traces and with 10k. */
export async function decisionBench(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-decide-'));
  try {
    for (const n of [24, 10000]) {
      const traces = join(dir, `t${n}`);
      cpSync(packagePath('traces'), traces, { recursive: true });
      const records = n > 24 ? syntheticTraces(n) : [];
      if (n > 24) writeTraceDir(traces, records);
      const os = new LLMOS({ overrides: { board: 'sim', paths: { traces, state: join(dir, `s${n}`) }, sim: { time: 'virtual' }, safety: { audit: false } }, logger: silentLogger });
      await os.boot();
      const shipped = ['beep', 'drive forward 2 meters', 'turn left 45 degrees', 'wave hello then beep', 'open the gripper', 'fly to the moon', 'raise the arm to 120 degrees', 'read the distance sensor'];
      const goals = [...shipped, ...(n > 24 ? syntheticGoals(records, 400) : [])];
      for (const g of goals.slice(0, 100)) os.decide(g);
      const samples: number[] = [];
      for (let r = 0; r < (n > 24 ? 2 : 200); r++) {
        for (const g of goals) {
          const s = performance.now();
          os.decide(g);
          samples.push(performance.now() - s);
        }
      }
      out[`traces_${n}`] = { unit: 'ms', ...percentiles(samples) };
      await os.shutdown();
    }
    out['note'] = 'LLMOS.decide(): goal analysis, matcher, dispatcher (mode, orchestrator split, parameter binding, board fit), shipped goals plus synthetic paraphrases and misses';
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
