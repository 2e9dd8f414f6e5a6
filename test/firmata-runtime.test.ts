/**
 * The runtime end to end on boards/arduino-arm.yaml against real StandardFirmata on the emulated
 * Uno (test/real/): `llmos board check`, a trace served by run-follower, traces run in a
 * long-lived runtime (servo pulses measured on the pins, the grip force sensor on A0) and the
 * e-stop button on pin 2 (a press latches the e-stop; letting go does not release it). The
 * shipped profile is used as a user would: a copy whose `port:` names the board's serial port.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { packagePath } from '../lib/paths.js';
import { runBin, simRobot, tempDir } from './helpers.js';
import { useEmulatedUno, type EmulatedUno } from './real/uno.js';

const board = useEmulatedUno();

/** boards/arduino-arm.yaml with `port:` set to the emulated board's pty. */
function armOn(port: string): string {
  const doc = parse(readFileSync(packagePath('boards', 'arduino-arm.yaml'), 'utf8')) as Record<string, unknown>;
  delete doc['$schema'];
  const driver = (doc['drivers'] as Record<string, Record<string, unknown>>)['arduino']!;
  driver['port'] = port;
  driver['timeout_ms'] = 60000; // a busy machine slows the emulator
  const file = join(tempDir(), 'arduino-arm.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

function traces(): string {
  const dir = join(tempDir(), 'traces');
  mkdirSync(dir, { recursive: true });
  const put = (name: string, goal: string, calls: unknown[]): void => writeFileSync(join(dir, `${name}.yaml`), stringify({ goal_text: goal, success_rate: 1, usage_count: 0, origin: 'manual', tool_calls: calls }));
  put('base-left', 'turn the base left', [{ name: 'servo_move', args: { actuator: 'base', angle: 150 } }]);
  put('base-right', 'turn the base right', [{ name: 'servo_move', args: { actuator: 'base', angle: 30 } }]);
  put('grip-force', 'measure the grip force', [{ name: 'sensor_read', args: { sensor: 'grip_force' } }]);
  return dir;
}

/** Expected pulse for an angle on a 500..2500 µs servo (Arduino's integer map), with slack for the ISR trim. */
const pulseOf = (angle: number): number => 500 + Math.trunc((angle * 2000) / 180);

test('llmos board check on the arm: every servo, the LED and the grip force sensor are found on the real firmware', async (t) => {
  const u = board(t);
  if (!u) return;
  await u.ready();
  u.setAnalog(0, 2.5);
  const r = await runBin('llmos.js', ['board', 'check', '--board', armOn(u.path), '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; rows: Array<{ name: string; ok: boolean; detail: string }> };
  assert.deepEqual(report.rows.map((x) => [x.name, x.ok]), [['base', true], ['shoulder', true], ['elbow', true], ['gripper', true], ['led', true], ['grip_force', true]]);
  assert.match(report.rows[0]!.detail, /pin 3 \(500-2500 µs\)/);
  // 2.5 V on A0: 511 or 512 of 1023 -> 5 N.
  assert.match(report.rows[5]!.detail, /reads 5(\.0\d*)? N/);
});

test('run-follower serves a trace on the arm: the base servo gets the pulse for 150 degrees', async (t) => {
  const u = board(t);
  if (!u) return;
  await u.ready();
  const dir = traces();
  const r = await runBin('run-follower.js', ['--board', armOn(u.path), '--traces', dir, '--json', 'turn the base left']);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { ok?: boolean; mode?: string };
  assert.equal(out.ok, true, r.stdout + r.stderr);
  assert.equal(out.mode, 'FOLLOWER');
  // The Uno keeps pulsing after run-follower closed the port (it resets only on the next open).
  await u.waitFor<number[]>('pulses', 3, (seen) => seen.some((w) => Math.abs(w - pulseOf(150)) <= 4), `a ${pulseOf(150)} µs pulse on pin 3`);
});

test('the runtime on the arm: traces move the base and read the grip force; the e-stop button latches the e-stop', async (t) => {
  const u = board(t);
  if (!u) return;
  await u.ready();
  u.setAnalog(0, 2.0);
  const r = await simRobot({ board: armOn(u.path), realTime: true, shippedTraces: false, overrides: { paths: { traces: traces() } } });
  try {
    const left = await r.os.execute('turn the base left');
    assert.equal(left.ok, true, JSON.stringify(left.error));
    await u.waitFor<number[]>('pulses', 3, (p) => Math.abs((p.at(-1) ?? 0) - pulseOf(150)) <= 4, 'the base at 150 degrees');
    const right = await r.os.execute('turn the base right');
    assert.equal(right.ok, true, JSON.stringify(right.error));
    await u.waitFor<number[]>('pulses', 3, (p) => Math.abs((p.at(-1) ?? 0) - pulseOf(30)) <= 4, 'the base at 30 degrees');
    // 2.0 V of 5 V on A0 -> 409 of 1023 -> 4 N on the 0..10 N range.
    const grip = await r.os.execute('measure the grip force');
    assert.equal(grip.ok, true, JSON.stringify(grip.error));
    const reading = grip.steps[0]?.value as { value: number; unit?: string };
    assert.ok(Math.abs(reading.value - 4) < 0.05, `grip force ${JSON.stringify(reading)}`);
    assert.equal(reading.unit, 'N');

    assert.equal(r.os.gate.estopStatus.engaged, false);
    u.setInput(2, false); // press: the button pulls pin 2 to ground
    const end = Date.now() + 30000;
    while (!r.os.gate.estopStatus.engaged) {
      if (Date.now() > end) assert.fail('the e-stop button press did not engage the e-stop within 30 s');
      await new Promise((res) => setTimeout(res, 20));
    }
    u.setInput(2, true); // let go: the latch holds
    await u.waitFor<boolean>('level', 13, () => true, 'the board still running');
    const refused = await r.os.execute('turn the base left');
    assert.equal(refused.ok, false);
    assert.equal(r.os.gate.estopStatus.engaged, true, 'still latched after the button is let go');
    const pulses = await u.query<number[]>('pulses', 3);
    assert.ok(Math.abs((pulses.at(-1) ?? 0) - pulseOf(30)) <= 4, 'the base did not move while the e-stop is engaged');
  } finally {
    await r.cleanup();
  }
});
