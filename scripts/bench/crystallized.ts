/** CRYSTALLIZED vs FOLLOWER: time from execute() to the first actuator write, same goal, sim board. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../lib/paths.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';
import { percentiles } from './core.js';

async function firstWrite(os: LLMOS, goal: string, mode: string, n: number): Promise<number[]> {
  const samples: number[] = [];
  let started = 0;
  let first = -1;
  const off = os.gate.events.on('write', () => { if (first < 0) first = performance.now() - started; });
  for (let i = 0; i < n + 30; i++) {
    first = -1;
    started = performance.now();
    const r = await os.execute(goal);
    if (r.mode !== mode || !r.ok) throw new Error(`expected ${mode}, got ${r.mode} ${r.error?.message ?? ''}`);
    if (i >= 30) samples.push(first);
  }
  off();
  return samples;
}

export async function crystallizedBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-cr-'));
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const os = new LLMOS({ overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state'), crystallized: join(dir, 'crystallized') }, sim: { time: 'virtual' }, safety: { audit: false } }, logger: silentLogger });
  await os.boot();
  try {
    const goal = 'turn right 30 degrees';
    const follower = percentiles(await firstWrite(os, goal, 'FOLLOWER', 300));
    const sig = os.decide(goal).candidate?.trace.goal_signature as string;
    await os.crystallizer.crystallize(sig, { dryRun: false });
    const crystallized = percentiles(await firstWrite(os, goal, 'CRYSTALLIZED', 300));
    return { unit: 'ms', goal, follower, crystallized, note: 'execute() to the first actuator write; includes matching, dispatch and the gate' };
  } finally {
    await os.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}
