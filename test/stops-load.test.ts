/**
 * One-shot runs beside CPU hogs (a board that runs Ollama beside the runtime is loaded all the
 * time): a slow boot with everything at rest is not a stall, so no run trips the watchdog.
 * (A genuine stall during motion is still caught: test/watchdog.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { runBin, tempDir } from './helpers.js';

test('30 one-shot runs beside four CPU hogs: no ERR_SAFETY_WATCHDOG', async () => {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < 4; i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  try {
    const dir = tempDir();
    cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
    // Nothing moves in these runs: a trip could only be the slow boot counted as a stall (a
    // motion starved of CPU for the whole deadman window is a genuine stall, caught on purpose).
    const goals = ['turn on the led', 'beep', 'turn off the led'];
    const results: Array<{ code: number | null; out: string }> = [];
    // Three at a time: more load, and the suite does not wait for 30 boots in a row.
    for (let batch = 0; batch < 10; batch++) {
      const runs = goals.map((goal, i) => {
        const state = join(dir, `state-${batch}-${i}`);
        return runBin('run-follower.js', ['--traces', join(dir, 'traces'), '--state', state, '--sim-log', join(state, 'sim.jsonl'), '--json', goal]);
      });
      for (const r of await Promise.all(runs)) results.push({ code: r.code, out: r.stdout + r.stderr });
    }
    assert.equal(results.length, 30);
    const tripped = results.filter((r) => /ERR_SAFETY_WATCHDOG|stalled/.test(r.out));
    assert.equal(tripped.length, 0, `spurious watchdog trips:\n${tripped.map((r) => r.out).join('\n---\n')}`);
    const failed = results.filter((r) => r.code !== 0);
    assert.equal(failed.length, 0, `failed runs:\n${failed.map((r) => r.out).join('\n---\n')}`);
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
  }
});

test('the stall rule: time away with everything at rest never trips; away while moving does', async () => {
  const { SafetyWatchdog } = await import('../safety/watchdog.js');
  let moving = false;
  const trips: string[] = [];
  const wd = new SafetyWatchdog({ stallMs: 100, heartbeatMs: 20, targets: [], isMotionActive: () => moving, stuckWriteMs: () => 0, onTrip: (r) => trips.push(r) });
  const block = (ms: number): void => { const end = performance.now() + ms; while (performance.now() < end) { /* a slow boot, a busy machine */ } };
  try {
    await wd.start();
    block(300);
    assert.doesNotThrow(() => wd.assertAlive(), 'a first write after a slow time at rest is not a stall');
    assert.deepEqual(trips, []);
    // That write may have started motion: from now on silence counts.
    moving = true;
    block(300);
    assert.throws(() => wd.assertAlive(), /stalled/);
    assert.equal(trips.length, 1);
  } finally {
    await wd.close();
  }
});
