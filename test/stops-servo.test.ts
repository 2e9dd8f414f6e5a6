/**
 * No stop moves anything faster than its profile allows (DESIGN.md invariant 10): a position
 * servo with stop category 0 is released (no pulses), never sent to its safe angle in one write;
 * with stop category 1 it ramps there at max_rate. And every step and run ends in bounded time.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { loadConfig } from '../runtime/config.js';
import { runLimitMs } from '../runtime/run-limit.js';
import { simRobot, tempDir } from './helpers.js';

const ctx = { source: 'api' as const, runId: 'r1' };

test('stop category 0 on a position servo: the e-stop releases it (no pulses), it never jumps to its safe angle', async () => {
  const r = await simRobot({ shippedTraces: false });
  try {
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 180 } }, ctx);
    const before = r.writes().length;
    assert.equal(r.writes().filter((w) => w.actuator === 'arm').at(-1)?.value, 180);
    await r.os.estop('test', 'api');
    const after = r.writes().slice(before).filter((w) => w.actuator === 'arm');
    assert.deepEqual(after.map((w) => w.value), ['released'], 'released, not written to 90');
    assert.equal(r.os.gate.actuatorSnapshot()['arm'], null, 'its position is unknown once released');
  } finally {
    await r.cleanup();
  }
});

test('stop category 1 on a position servo: the stop ramps to the safe angle at max_rate', async () => {
  const dir = tempDir();
  const board = join(dir, 'board.yaml');
  writeFileSync(board, readFileSync(packagePath('boards', 'sim.yaml'), 'utf8').replace(/(arm:[\s\S]*?stop_category: )0/, '$11'));
  assert.equal(loadBoardProfile(board).actuators.get('arm')?.stop_category, 1);
  const r = await simRobot({ shippedTraces: false, board });
  try {
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 180 } }, ctx);
    const before = r.writes().length;
    await r.os.estop('test', 'api');
    const arm = [r.writes().slice(0, before).filter((w) => w.actuator === 'arm').at(-1), ...r.writes().slice(before).filter((w) => w.actuator === 'arm')];
    assert.ok(arm.length > 3, `a ramp of several writes: ${JSON.stringify(arm)}`);
    assert.equal(arm.at(-1)?.value, 90);
    for (let i = 1; i < arm.length; i++) {
      const [a, b] = [arm[i - 1], arm[i]] as [{ t: number; value: number }, { t: number; value: number }];
      assert.ok(Math.abs(b.value - a.value) <= 180 * ((b.t - a.t) / 1000) + 1e-6, `${a.value} -> ${b.value} in ${b.t - a.t} ms is faster than 180 deg/s`);
    }
  } finally {
    await r.cleanup();
  }
});

test('a step that cannot finish within its bound fails with ERR_TIME_LIMIT (servo_move speed_dps 1e-300), nothing moves', async () => {
  const r = await simRobot({ shippedTraces: false });
  try {
    await assert.rejects(r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 100, speed_dps: 1e-300 } }, ctx), (e: unknown) => isLlmosError(e) && e.code === 'ERR_TIME_LIMIT' && /would take .* more than one step may take/.test(e.message));
    assert.equal(r.writes().filter((w) => w.actuator === 'arm').length, 0);
  } finally {
    await r.cleanup();
  }
});

test('run wall-time limits: derived from the steps by default, configurable; a run past its limit stops with ERR_TIME_LIMIT', async () => {
  const profile = loadBoardProfile('sim');
  const config = loadConfig({ overrides: {} });
  const drive = { goal: 'drive', mode: 'FOLLOWER' as const, score: 1, params: {}, nearest: [], calls: [{ name: 'drive', args: { distance_m: 5 } }] };
  const derived = runLimitMs(drive, config, profile) as number;
  assert.ok(derived > (5 / (0.5 * 0.5)) * 1000, `room for the drive at its speed: ${derived}`);
  assert.ok(Number.isFinite(derived));
  const longer = runLimitMs({ ...drive, calls: [{ name: 'drive', args: { distance_m: 50 } }] }, config, profile) as number;
  assert.ok(longer > derived, 'a longer drive gets a longer limit');
  assert.equal(runLimitMs(drive, loadConfig({ overrides: { safety: { run_limit_ms: 1234 } } }), profile), 1234);
  assert.equal(runLimitMs({ ...drive, mode: 'LEARNER', calls: [] }, config, profile), undefined, 'LLM loops: their own wall-time budget');

  const r = await simRobot({ realTime: true, overrides: { safety: { run_limit_ms: 800 } } });
  try {
    const res = await r.os.execute('drive forward 5 meters');
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_TIME_LIMIT', JSON.stringify(res.error));
    const base = r.writes().filter((w) => w.actuator === 'base');
    assert.ok(base.some((w) => (w.value as number) > 0), 'it moved before the limit');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.equal(base.filter((w) => w.channel === 'right').at(-1)?.value, 0);
  } finally {
    await r.cleanup();
  }
});
