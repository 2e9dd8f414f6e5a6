/**
 * Issue 17, item 6: a single write never moves an actuator further than max_rate over its update
 * period, however long it has been idle and whatever the first write after boot is. With
 * `on_rate: reject` such a write is refused; with `ramp` it is ramped from the last known value.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkRate, rampStep } from '../safety/rate-bound.js';
import { shippedBoard, simRobot, tempDir, type SimLogLine } from './helpers.js';

function rejectBoard(): string {
  const file = join(tempDir(), 'reject.yaml');
  const text = readFileSync(shippedBoard(), 'utf8').replace('$schema: ../schemas/board.schema.json\n', '');
  // The arm refuses fast changes instead of ramping them.
  writeFileSync(file, text.replace(/(\n  arm:[\s\S]*?on_rate: )ramp/, '$1reject'));
  return file;
}

const api = { source: 'api' as const, runId: 'r' };

test('on_rate: reject refuses a jump on the first write after boot, and after an idle pause', async () => {
  const r = await simRobot({ board: rejectBoard() });
  try {
    // Boot leaves the arm at its safe value 90: 180 in one write is 90 degrees at once.
    await assert.rejects(r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 180 } }, api), (e: unknown) => (e as { code?: string }).code === 'ERR_SAFETY_RATE');
    assert.equal(r.writes().filter((w) => w.actuator === 'arm').length, 0, 'refused: nothing written');
    // A step within max_rate x update period passes.
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 93 } }, api);
    // Five idle seconds do not earn a 93 degree jump.
    await r.os.gate.call({ name: 'wait', args: { ms: 5000 } }, api);
    await assert.rejects(r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 0 } }, api), (e: unknown) => (e as { code?: string }).code === 'ERR_SAFETY_RATE');
    assert.deepEqual(r.writes().filter((w) => w.actuator === 'arm').map((w) => w.value), [93]);
  } finally {
    await r.cleanup();
  }
});

test('on_rate: ramp moves from the last known value in steps within the bound, after boot and after idle', async () => {
  const r = await simRobot();
  try {
    const steps = (w: SimLogLine[], name: string): number[] => {
      const v = w.filter((x) => x.actuator === name).map((x) => Number(x.value));
      return v.slice(1).map((x, i) => Math.abs(x - (v[i] as number)));
    };
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 0 } }, api);
    await r.os.gate.call({ name: 'wait', args: { ms: 5000 } }, api);
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 180 } }, api);
    const arm = r.writes().filter((x) => x.actuator === 'arm');
    assert.ok(Math.abs(Number(arm[0]?.value) - 90) <= 180 * 0.04 + 1e-6, `first write after boot within one period of the safe value 90, got ${String(arm[0]?.value)}`);
    assert.ok(steps(r.writes(), 'arm').every((d) => d <= 180 * 0.04 + 1e-6), 'every step within max_rate x period');
    assert.equal(arm.at(-1)?.value, 180);
  } finally {
    await r.cleanup();
  }
});

test('property: checkRate bounds every accepted write by max_rate x period; ramp steps never overshoot', () => {
  fc.assert(fc.property(
    fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.double({ min: -1000, max: 1000, noNaN: true }), fc.double({ min: -1000, max: 1000, noNaN: true }),
    fc.option(fc.double({ min: 0, max: 1e7, noNaN: true })), fc.integer({ min: 1, max: 100 }),
    (rate, prev, value, idle, tick) => {
      const now = 1e7;
      const last = idle === null ? undefined : now - idle;
      let ok = true;
      try { checkRate('x', rate, prev, value, last, now, tick); } catch { ok = false; }
      const period = Math.max((2 * tick) / 1000, 1e-4 / rate);
      if (ok) assert.ok(Math.abs(value - prev) <= rate * period + 1e-6);
    },
  ));
  fc.assert(fc.property(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: 1e-4, max: 10, noNaN: true }), (cur, goal, max) => {
    fc.pre(Math.abs(goal - cur) > max);
    const next = rampStep(cur, goal, max);
    assert.ok(Math.abs(next - cur) <= max + 1e-12, `step ${next - cur} within ${max}`);
    assert.ok(Math.sign(next - cur) === Math.sign(goal - cur), 'towards the goal');
  }));
});
