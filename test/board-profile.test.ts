import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LlmosError } from '../lib/errors.js';
import { loadBoardProfile, parseBoardProfile } from '../safety/board-profile.js';
import { buildToolCatalog, searchTools } from '../safety/tools/index.js';

function boardError(doc: unknown, pattern: RegExp): void {
  assert.throws(() => parseBoardProfile(doc, 'test.yaml'), (e: unknown) => {
    assert.ok(e instanceof LlmosError, String(e));
    assert.equal(e.code, 'ERR_BOARD_PROFILE');
    assert.match(e.message, pattern);
    return true;
  });
}

const base = (actuators: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'b', actuators, ...extra });

test('the shipped sim board declares everything DESIGN.md asks for', () => {
  const p = loadBoardProfile('sim');
  const types = Object.fromEntries([...p.actuators.values()].map((a) => [a.name, a.type]));
  assert.deepEqual(types, { base: 'differential_drive', arm: 'servo', gripper: 'servo', led: 'digital_out', buzzer: 'pwm', winch: 'motor', uart: 'serial_line' });
  assert.deepEqual([...p.sensors.keys()], ['distance', 'battery']);
  assert.ok(p.interlocks.length >= 1);
  for (const a of p.actuators.values()) assert.ok(a.safe_value !== undefined, a.name);
});

test('profile errors name the field: driver, safe value, interlock, allow-list, calibration, schema', () => {
  boardError(base({ m: { type: 'motor', driver: 'nope' } }), /\/actuators\/m\/driver: names driver "nope"/);
  boardError(base({ s: { type: 'servo', range: [0, 90] } }), /\/actuators\/s\/safe_value: is required for a servo/);
  boardError(base({ s: { type: 'servo', range: [0, 90], safe_value: 120 } }), /\/actuators\/s\/safe_value: 120 is outside the range \[0, 90\]/);
  boardError(base({ u: { type: 'serial_line' } }), /\/actuators\/u\/allow: is required/);
  boardError(base({ u: { type: 'serial_line', allow: ['('] } }), /\/actuators\/u\/allow\/0: is not a valid regular expression/);
  boardError(base({ d: { type: 'differential_drive' } }), /\/actuators\/d\/calibration: is required/);
  boardError(base({ m: { type: 'motor' } }, { interlocks: [{ when: { actuator: 'x', active: true }, forbid: ['m'] }] }), /\/interlocks\/0\/when\/actuator: names "x"/);
  boardError(base({ m: { type: 'motor', speed: 3 } }), /\/actuators\/m\/speed: is not a known field/);
  boardError(base({ M: { type: 'motor' } }), /has an invalid name "M"/);
  boardError(base({ m: { type: 'motor', range: [1, -1] } }), /minimum 1 is above maximum -1/);
});

test('tools are generated from the profile, with enums of actuator names and declared ranges', () => {
  const p = loadBoardProfile('sim');
  const catalog = buildToolCatalog(p, { systemTools: false });
  assert.deepEqual([...catalog.keys()].sort(), ['digital_write', 'drive', 'motor_set', 'pwm_write', 'search_tools', 'sensor_read', 'serial_send', 'servo_move', 'turn', 'wait']);
  const servo = catalog.get('servo_move');
  assert.deepEqual(servo?.parameters.properties['actuator']?.['enum'], ['arm', 'gripper']);
  assert.equal(servo?.parameters.properties['angle']?.['maximum'], 180);
  assert.equal(catalog.get('motor_set')?.motion, true);
  assert.ok(!catalog.has('Bash'), 'system tools are off by default');
  assert.ok(buildToolCatalog(p, { systemTools: true }).has('Bash'));
  const small = parseBoardProfile(base({ led: { type: 'digital_out' } }), 't.yaml');
  assert.ok(!buildToolCatalog(small, { systemTools: false }).has('drive'), 'no drive tool without a drive base');
});

test('search_tools returns the few tools relevant to a query', () => {
  const catalog = buildToolCatalog(loadBoardProfile('sim'), { systemTools: false });
  assert.equal(searchTools(catalog, 'drive forward two meters')[0]?.name, 'drive');
  assert.equal(searchTools(catalog, 'open the gripper')[0]?.name, 'servo_move');
  assert.equal(searchTools(catalog, 'how far is the wall, read the distance sensor')[0]?.name, 'sensor_read');
  assert.equal(searchTools(catalog, 'turn the led on')[0]?.name, 'digital_write');
  assert.ok(searchTools(catalog, 'anything at all about tools', 3).length <= 3);
  assert.deepEqual(searchTools(catalog, 'xyzzy'), []);
});

test('the e-stop pin may not be shared with an actuator or sensor; reversible motors get a default max_rate', async () => {
  const { parseBoardProfile, DEFAULT_MOTOR_RATE } = await import('../safety/board-profile.js');
  const doc = (estopPin: number): unknown => ({
    name: 'b', drivers: { gpio: { type: 'gpio' } },
    actuators: { winch: { type: 'motor', pin: 18, dir_pin: 5, range: [-1, 1] }, led: { type: 'digital_out', pin: 17 } },
    estop: { pin: estopPin },
  });
  assert.throws(() => parseBoardProfile(doc(5), 'test'), /\/estop\/pin: pin 5 is also used by actuator winch/);
  const ok = parseBoardProfile(doc(24), 'test');
  assert.equal(ok.actuators.get('winch')?.max_rate, DEFAULT_MOTOR_RATE);
  // Scaled to the range: a -100..100 motor still stops from full speed in a quarter second.
  const wide = parseBoardProfile({ name: 'w', actuators: { m: { type: 'motor', range: [-100, 100] } } }, 'test');
  assert.equal(wide.actuators.get('m')?.max_rate, DEFAULT_MOTOR_RATE * 100);
  assert.equal(ok.actuators.get('led')?.max_rate, undefined);
});

test('a mistyped driver option is refused with its path, not ignored', async () => {
  const { parseBoardProfile } = await import('../safety/board-profile.js');
  const doc = { name: 'b', drivers: { ctl: { type: 'serial', port: '/dev/ttyUSB0', baudrate: 9600 } }, actuators: { uart: { type: 'serial_line', allow: ['^PING$'] } } };
  assert.throws(() => parseBoardProfile(doc, 'test.yaml'), (e: unknown) => e instanceof LlmosError && e.code === 'ERR_BOARD_PROFILE' && /\/drivers\/ctl/.test(e.message) && /baudrate/.test(e.message));
});
