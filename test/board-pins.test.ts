/**
 * Contradictory board profiles (issue 18 item 8): every spelling of a pin and every driver
 * instance that reaches it count as one pin, and a pin used twice is refused, naming both uses.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { parseBoardProfile } from '../safety/board-profile.js';
import { normalizePin } from '../safety/pin-map.js';
import { tempDir } from './helpers.js';
import { runMain } from './run-main.js';

const gpio = { gpio: { type: 'gpio' } };
const CASES: Array<[string, Record<string, unknown>, RegExp]> = [
  ['e-stop spelled "GPIO24" on an output pin 24', { drivers: gpio, actuators: { led: { type: 'digital_out', pin: 24 } }, estop: { pin: 'GPIO24' } }, /\/estop\/pin: pin "GPIO24" \(the same pin as 24\) is also used by actuator led/],
  ['e-stop spelled "024"', { drivers: gpio, actuators: { led: { type: 'digital_out', pin: 24 } }, estop: { pin: '024' } }, /\/estop\/pin: .*actuator led/],
  ['e-stop on a second gpio driver', { drivers: { gpio: { type: 'gpio' }, gpio2: { type: 'gpio' } }, actuators: { led: { type: 'digital_out', driver: 'gpio', pin: 24 } }, estop: { driver: 'gpio2', pin: 24 } }, /\/estop\/pin: pin 24 is also used by actuator led/],
  ['two outputs on one pin with different safe values', { drivers: gpio, actuators: { a: { type: 'digital_out', pin: 17, safe_value: false }, b: { type: 'digital_out', pin: 'BCM17', safe_value: true } } }, /\/actuators\/b\/pin: .*actuator a/],
  ['a direction pin on the PWM pin', { drivers: gpio, actuators: { m: { type: 'motor', pin: 18, dir_pin: 'GPIO18', range: [-1, 1] } } }, /\/actuators\/m\/dir_pin: .*its own pin/],
  ['a sensor on an output pin', { drivers: gpio, actuators: { led: { type: 'digital_out', pin: 23 } }, sensors: { bump: { type: 'digital', pin: '23' } } }, /\/sensors\/bump\/pin: .*actuator led/],
  ['Firmata D13 and 13', { drivers: { uno: { type: 'johnny-five', port: '/dev/ttyACM0' } }, actuators: { a: { type: 'digital_out', pin: 13 }, b: { type: 'pwm', pin: 'D13' } } }, /\/actuators\/b\/pin: .*actuator a/],
  ['two johnny-five drivers on one port', { drivers: { u1: { type: 'johnny-five', port: '/dev/ttyACM0' }, u2: { type: 'johnny-five', port: '/dev/ttyACM0' } }, actuators: { a: { type: 'digital_out', driver: 'u1', pin: 7 } }, sensors: { s: { type: 'analog', driver: 'u2', pin: 'a0' }, t: { type: 'analog', driver: 'u1', pin: 'A0' } } }, /\/sensors\/t\/pin: .*sensor s/],
  ['a drive base channel on a motor pin', { drivers: gpio, actuators: { base: { type: 'differential_drive', calibration: { max_speed_mps: 0.5, max_turn_dps: 90 }, left: { pin: 12, dir_pin: 5 }, right: { pin: 13, dir_pin: 20 } }, winch: { type: 'motor', pin: 19, dir_pin: 'GPIO05', range: [-1, 1] } } }, /\/actuators\/winch\/dir_pin: .*actuator base \(\/actuators\/base\/left\/dir_pin\)/],
];

test('pin spellings normalise to one identity', () => {
  assert.equal(normalizePin('GPIO24', 'gpio'), '24');
  assert.equal(normalizePin('024', 'gpio'), '24');
  assert.equal(normalizePin(' bcm 24 ', 'gpio'), '24');
  assert.equal(normalizePin(24, 'gpio'), '24');
  assert.equal(normalizePin('D13', 'johnny-five'), '13');
  assert.equal(normalizePin('a01', 'johnny-five'), 'A1');
});

test('each contradictory profile is refused with ERR_BOARD_PROFILE naming both uses', () => {
  for (const [what, doc, message] of CASES) {
    assert.throws(() => parseBoardProfile({ name: 'b', ...doc }, 'b.yaml'), (e: unknown) => (e as { code?: string }).code === 'ERR_BOARD_PROFILE' && message.test((e as Error).message), what);
  }
  // Distinct pins, and the same number on different hardware, are fine.
  assert.doesNotThrow(() => parseBoardProfile({ name: 'ok', drivers: { gpio: { type: 'gpio' }, uno: { type: 'johnny-five', port: '/dev/ttyACM0' } }, actuators: { a: { type: 'digital_out', driver: 'gpio', pin: 13 }, b: { type: 'digital_out', driver: 'uno', pin: 13 } }, estop: { driver: 'gpio', pin: 'GPIO24' } }, 'ok.yaml'));
});

test('--check-board and a run exit 2 on a contradictory profile, naming both devices', async () => {
  const dir = tempDir();
  for (const [k, [what, doc]] of CASES.entries()) {
    const file = join(dir, `b${k}.yaml`);
    writeFileSync(file, stringify({ name: `b${k}`, ...doc }));
    const check = await runMain('run-follower', ['--board', file, '--check-board', '--twins', '--state', join(dir, 'state')]);
    assert.equal(check.code, 2, `${what}: ${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /ERR_BOARD_PROFILE: .* is also used by (actuator|sensor|its own)/, what);
    const run = await runMain('run-follower', ['--board', file, '--twins', '--sim-time', 'virtual', '--state', join(dir, 'state'), 'beep']);
    assert.equal(run.code, 2, `${what}: ${run.stderr}`);
    assert.match(run.stderr, /ERR_BOARD_PROFILE: .* is also used by (actuator|sensor|its own)/, what);
  }
});
