/**
 * The runtime on boards/arduino-arm.yaml with the mock Firmata IO: --check-board, tool calls through
 * the gate to the pins, johnny-five loaded only where used, the board lost mid-run, and the
 * e-stop button that can no longer be read.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { packagePath } from '../lib/paths.js';
import { JohnnyFiveDriver } from '../drivers/johnny-five/johnny-five.js';
import type { MockIoWrite } from '../drivers/johnny-five/twins/j5-mock-io.js';
import { checkBoard } from '../safety/board-check.js';
import { readSimLog, simRobot, tempDir } from './helpers.js';
import { profile, rejectsWith } from './johnny-five-harness.js';

function mockArm(options: { estop?: boolean } = {}): string {
  const doc = parse(readFileSync(packagePath('boards', 'arduino-arm.yaml'), 'utf8')) as Record<string, unknown>;
  delete doc['$schema'];
  if (options.estop === false) delete doc['estop'];
  (doc['drivers'] as Record<string, Record<string, unknown>>)['arduino']!['io'] = 'mock';
  const file = join(tempDir(), 'arduino-arm-mock.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

test('boards/arduino-arm.yaml: --check-board says the port is not found (no crash); with io: mock every device is found', async () => {
  const real = await checkBoard(packagePath('boards', 'arduino-arm.yaml'));
  assert.equal(real.ok, false);
  assert.deepEqual(real.rows.map((r) => r.name), ['base', 'shoulder', 'elbow', 'gripper', 'led', 'grip_force']);
  assert.ok(real.rows.every((r) => !r.ok && /ERR_DRIVER_UNAVAILABLE.*serial port not found \(no \/dev\/ttyACM0/.test(r.detail)), JSON.stringify(real.rows));
  const mock = await checkBoard(mockArm());
  assert.equal(mock.ok, true, JSON.stringify(mock.rows));
  assert.equal(mock.rows.length, 6);
});

test('the runtime on the arm with io: mock: tool calls pass the gate and reach the pins; shutdown parks the arm', async () => {
  const dir = tempDir();
  const board = join(dir, 'arm.yaml');
  copyFileSync(mockArm(), board);
  const r = await simRobot({ board, shippedTraces: false });
  const api = { source: 'api' as const, runId: 'j5-run' };
  const pinLog = (): Array<MockIoWrite & { board: string }> => readSimLog(r.simLog).filter((l) => 'op' in l) as unknown as Array<MockIoWrite & { board: string }>;
  try {
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'base', angle: 135 } }, api);
    await r.os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, api);
    const reading = await r.os.gate.call({ name: 'sensor_read', args: { sensor: 'grip_force' } }, api);
    assert.deepEqual(reading.value, { sensor: 'grip_force', value: 5.005, unit: 'N' });
    await rejectsWith(r.os.gate.call({ name: 'servo_move', args: { actuator: 'shoulder', angle: 170 } }, api), 'ERR_SAFETY_RANGE');
    const base = pinLog().filter((w) => w.pin === 3 && w.op === 'servoWrite').map((w) => w.value as number);
    assert.equal(base.at(-1), 2000, '135 degrees on a 500..2500 µs servo');
    assert.ok(pinLog().some((w) => w.pin === 13 && w.op === 'digitalWrite' && w.value === 1));
    assert.equal(pinLog().filter((w) => w.pin === 5 && w.op === 'servoWrite').length, 0, 'the refused shoulder move never reached pin 5');
    assert.ok(pinLog().every((w) => w.board === 'arduino'));
    await r.os.shutdown('test done');
    const last = (pin: number): unknown => pinLog().filter((w) => w.pin === pin && w.op !== 'pinMode').at(-1)?.value;
    assert.equal(last(3), 2000, 'the base holds where it was (safe_value: hold): stopping moves no joint');
    assert.equal(last(13), 0, 'the light is off');
  } finally { await r.cleanup(); }
});

/** Opens and closes a board's drivers in a fresh process; returns the library files it loaded. */
function librariesLoadedBy(board: string): string[] {
  const mod = (p: string): string => JSON.stringify(pathToFileURL(packagePath('dist', p)).href);
  const script = `
    import { createRequire } from 'node:module';
    const { loadBoardProfile } = await import(${mod('safety/board-profile.js')});
    const { openDrivers } = await import(${mod('drivers/index.js')});
    const { RealClock } = await import(${mod('lib/clock.js')});
    const drivers = await openDrivers(loadBoardProfile(${JSON.stringify(board)}), { clock: new RealClock() });
    for (const d of drivers.values()) await d.close();
    const loaded = Object.keys(createRequire(process.cwd() + '/').cache);
    console.log(JSON.stringify(loaded.filter((f) => /node_modules[/](johnny-five|firmata-io|serialport)[/]/.test(f))));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as string[];
}

test('johnny-five is loaded only for a board that uses it: the sim board never loads it', () => {
  assert.deepEqual(librariesLoadedBy('sim'), []);
  const arm = librariesLoadedBy(mockArm());
  assert.ok(arm.some((f) => f.includes('johnny-five/lib/board.js')), 'control: the arm board does load johnny-five');
});

test('the runtime survives losing the Firmata board mid-run: the tool call fails with ERR_DRIVER_DISCONNECTED, shutdown completes', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  // Without the e-stop button: with it, the unreadable button latches the e-stop first (the next test).
  const r = await simRobot({ board: mockArm({ estop: false }), shippedTraces: false });
  const api = { source: 'api' as const, runId: 'j5-loss' };
  try {
    await r.os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, api);
    // Test-only reach past the gate to pull the simulated cable.
    const bank = (r.os.gate as unknown as { bank: { drivers: Map<string, JohnnyFiveDriver> } }).bank;
    bank.drivers.get('arduino')!.mockIo!.disconnect();
    await rejectsWith(r.os.gate.call({ name: 'servo_move', args: { actuator: 'elbow', angle: 100 } }, api), 'ERR_DRIVER_DISCONNECTED', /"arduino" \(mock io\) is disconnected/);
    await rejectsWith(r.os.gate.call({ name: 'sensor_read', args: { sensor: 'grip_force' } }, api), 'ERR_DRIVER_DISCONNECTED');
    await r.os.shutdown('test done');
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await r.cleanup();
  }
});

test('the arm with its e-stop button loses the board: the button can no longer be read, so the e-stop latches', async () => {
  const r = await simRobot({ board: mockArm(), shippedTraces: false });
  const api = { source: 'api' as const, runId: 'j5-loss-estop' };
  try {
    assert.equal(r.os.gate.estopStatus.engaged, false, 'the pull-up holds the released button high');
    const bank = (r.os.gate as unknown as { bank: { drivers: Map<string, JohnnyFiveDriver> } }).bank;
    bank.drivers.get('arduino')!.mockIo!.disconnect();
    await rejectsWith(r.os.gate.call({ name: 'servo_move', args: { actuator: 'elbow', angle: 100 } }, api), 'ERR_ESTOP_ENGAGED', /e-stop button \(pin 2\) can no longer be read/);
    assert.equal(r.os.gate.estopStatus.engaged, true);
  } finally {
    await r.cleanup();
  }
});
