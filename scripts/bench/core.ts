/** Benchmarks of the foundation: percentiles and goal-to-first-write (the gate's overhead is in gate-overhead.ts). */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../lib/paths.js';
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
