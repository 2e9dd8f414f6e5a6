/**
 * The johnny-five driver through johnny-five's real Board/Led/Servo/Motor/Sensor code, against
 * the mock Firmata IO (what each pin saw) and against firmata-io over serialport 13's mock
 * binding (the bytes on the wire). Also: the board lost mid-run, probe, close, and proof that
 * the `firmata` package and serialport 8's native binding are never loaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { SerialPortMock } from 'serialport';
import { parse, stringify } from 'yaml';
import { VirtualClock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { JohnnyFiveDriver, type SerialPortClass } from '../drivers/johnny-five/johnny-five.js';
import { MockFirmataIo, type MockIoWrite } from '../drivers/johnny-five/twins/j5-mock-io.js';
import type { ActuatorSpec, BoardProfile, SensorSpec } from '../drivers/types.js';
import { parseBoardProfile } from '../safety/board-profile.js';
import { checkBoard } from '../safety/board-check.js';
import { readSimLog, simRobot, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);

function profile(driverOptions: Record<string, unknown> = {}): BoardProfile {
  return parseBoardProfile({
    name: 'j5-test',
    drivers: { uno: { type: 'johnny-five', io: 'mock', mock_analog: { 0: 1023, 1: 300 }, ...driverOptions } },
    actuators: {
      led: { type: 'digital_out', pin: 13 },
      lamp: { type: 'pwm', pin: 5, range: [0, 1] },
      arm: { type: 'servo', pin: 9, pwm_range: [500, 2500], safe_value: 90 },
      claw: { type: 'servo', pin: 2, range: [0, 80], safe_value: 'hold' },
      winch: { type: 'motor', pin: 6, dir_pin: 7 },
      hoist: { type: 'motor', pin: 3, dir_pin: 4, invert: true },
      base: {
        type: 'differential_drive', left: { pin: 10, dir_pin: 8 }, right: { pin: 11, dir_pin: 12, invert: true },
        calibration: { max_speed_mps: 0.5, max_turn_dps: 120 },
      },
    },
    sensors: {
      force: { type: 'analog', pin: 'A0', range: [0, 10], unit: 'N' },
      light: { type: 'analog', pin: 'A1' },
    },
  }, 'test:j5');
}

interface Rig {
  driver: JohnnyFiveDriver;
  p: BoardProfile;
  a: (name: string) => ActuatorSpec;
  s: (name: string) => SensorSpec;
  writes: () => MockIoWrite[];
  ops: (pin: number, op?: MockIoWrite['op']) => Array<MockIoWrite['value']>;
}

async function rig(driverOptions: Record<string, unknown> = {}): Promise<Rig> {
  const p = profile(driverOptions);
  const driver = new JohnnyFiveDriver(p.drivers.get('uno')!, { clock: new VirtualClock(), twin: (o) => new MockFirmataIo(o) });
  await driver.open([...p.actuators.values()], [...p.sensors.values()]);
  const writes = (): MockIoWrite[] => driver.mockIo!.writes;
  return {
    driver, p, writes,
    a: (n) => p.actuators.get(n)!,
    s: (n) => p.sensors.get(n)!,
    ops: (pin, op) => writes().filter((w) => w.pin === pin && (!op || w.op === op)).map((w) => w.value),
  };
}

const OUTPUT_OPS = new Set(['digitalWrite', 'analogWrite', 'servoWrite', 'servoConfig']);

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LlmosError, `expected an LlmosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('LEDs: digital_out switches the pin, pwm maps duty 0..1 to 0..255', async () => {
  const r = await rig();
  try {
    await r.driver.write({ actuator: r.a('led') }, true);
    await r.driver.write({ actuator: r.a('led') }, false);
    assert.deepEqual(r.ops(13), ['OUTPUT', 1, 0]);
    await r.driver.write({ actuator: r.a('lamp') }, 0.5);
    await r.driver.write({ actuator: r.a('lamp') }, 1);
    assert.deepEqual(r.ops(5), ['PWM', 128, 255]);
  } finally { await r.driver.close(); }
});

test('servos: degrees become pulse widths in the declared pwm_range, and nothing is attached before the first command', async () => {
  const r = await rig();
  try {
    assert.equal(r.writes().filter((w) => w.pin === 9 || w.pin === 2).length, 0, 'open() must not attach (and so move) a servo');
    for (const deg of [90, 0, 180, 45]) await r.driver.write({ actuator: r.a('arm') }, deg);
    assert.deepEqual(r.ops(9, 'servoConfig'), [[500, 2500]]);
    assert.deepEqual(r.ops(9, 'servoWrite'), [1500, 500, 2500, 1000]);
    // Without pwm_range johnny-five's default 600..2400 µs applies.
    await r.driver.write({ actuator: r.a('claw') }, 60);
    assert.deepEqual(r.ops(2, 'servoWrite'), [1200]);
  } finally { await r.driver.close(); }
});

test('motors: the sign sets the direction pin, the magnitude the PWM; invert flips the direction', async () => {
  const r = await rig();
  try {
    const before = r.writes().length;
    await r.driver.write({ actuator: r.a('winch') }, 0.5);
    await r.driver.write({ actuator: r.a('winch') }, 0.75);
    await r.driver.write({ actuator: r.a('winch') }, -1);
    await r.driver.write({ actuator: r.a('winch') }, 0);
    const seen = r.writes().slice(before).filter((w) => OUTPUT_OPS.has(w.op)).map((w) => `${w.op}(${w.pin},${String(w.value)})`);
    // Construction sets the pins up (dir forward, PWM off); a direction change stops before it flips the dir pin.
    assert.deepEqual(seen.slice(seen.indexOf('analogWrite(6,128)') - 2), [
      'analogWrite(6,0)', 'digitalWrite(7,1)', 'analogWrite(6,128)',
      'analogWrite(6,191)',
      'analogWrite(6,0)', 'digitalWrite(7,0)', 'analogWrite(6,255)',
      'analogWrite(6,0)',
    ]);
    await r.driver.write({ actuator: r.a('hoist') }, 0.4);
    assert.equal(r.driver.mockIo!.pinValue(4), 0, 'an inverted motor runs its "forward" with the dir pin low');
    assert.equal(r.driver.mockIo!.pinValue(3), 102);
  } finally { await r.driver.close(); }
});

test('differential drive: each wheel is its own motor; the right one here is mounted mirrored', async () => {
  const r = await rig();
  try {
    const base = r.a('base');
    await r.driver.write({ actuator: base, channel: 'left' }, 0.6);
    await r.driver.write({ actuator: base, channel: 'right' }, 0.6);
    const io = r.driver.mockIo!;
    assert.deepEqual([io.pinValue(10), io.pinValue(8)], [153, 1], 'left: PWM 0.6*255, forward');
    assert.deepEqual([io.pinValue(11), io.pinValue(12)], [153, 0], 'right: same speed, dir pin reversed by invert');
    await r.driver.write({ actuator: base, channel: 'left' }, -0.2);
    assert.deepEqual([io.pinValue(10), io.pinValue(8)], [51, 0]);
  } finally { await r.driver.close(); }
});

test('analog sensors are scaled to their declared range; without a range the raw count is the value', async () => {
  const r = await rig();
  try {
    assert.deepEqual(await r.driver.read(r.s('force')), { value: 10, unit: 'N' });
    r.driver.mockIo!.setAnalog(0, 512);
    assert.deepEqual(await r.driver.read(r.s('force')), { value: 5.005, unit: 'N' });
    r.driver.mockIo!.setAnalog(0, 0);
    assert.equal((await r.driver.read(r.s('force'))).value, 0);
    assert.equal((await r.driver.read(r.s('light'))).value, 300);
    assert.deepEqual(r.ops(0), ['ANALOG', 1], 'A0 is put in ANALOG mode and reported');
  } finally { await r.driver.close(); }
});

test('losing the board mid-run: later writes and reads fail with ERR_DRIVER_DISCONNECTED naming the board; nothing crashes', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const lose of ['close', 'error', 'throw'] as const) {
      const r = await rig();
      await r.driver.write({ actuator: r.a('winch') }, 0.5);
      const io = r.driver.mockIo!;
      if (lose === 'close') io.disconnect();
      if (lose === 'error') io.fail(new Error('EIO: input/output error'));
      if (lose === 'throw') io.failWrites(new Error('EIO: write failed'));
      await rejectsWith(r.driver.write({ actuator: r.a('winch') }, 0.6), 'ERR_DRIVER_DISCONNECTED', /johnny-five board "uno"/);
      await rejectsWith(r.driver.write({ actuator: r.a('led') }, true), 'ERR_DRIVER_DISCONNECTED', /led/);
      await rejectsWith(r.driver.read(r.s('force')), 'ERR_DRIVER_DISCONNECTED', /disconnected/);
      const probe = await r.driver.probe([r.a('winch')], []);
      assert.equal(probe[0]?.ok, false);
      assert.match(probe[0]?.detail ?? '', /disconnected/);
      await r.driver.close();
      assert.equal(io.isClosed, true, `${lose}: the board is released`);
    }
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(unhandled, []);
  } finally { process.off('unhandledRejection', onUnhandled); }
});

test('probe reports each device without moving anything; a bad pin is named with the reason', async () => {
  const r = await rig();
  try {
    const rows = await r.driver.probe([...r.p.actuators.values()], [...r.p.sensors.values()]);
    assert.equal(rows.length, r.p.actuators.size + r.p.sensors.size);
    assert.ok(rows.every((row) => row.ok), JSON.stringify(rows));
    assert.match(rows.find((x) => x.name === 'force')?.detail ?? '', /reads 10 N/);
    assert.deepEqual(r.writes().filter((w) => OUTPUT_OPS.has(w.op)), [], 'open + probe wrote no output');
  } finally { await r.driver.close(); }

  const bad = parseBoardProfile({
    name: 'bad', drivers: { uno: { type: 'johnny-five', io: 'mock' } },
    actuators: { arm: { type: 'servo', pin: 0, safe_value: 90 }, fan: { type: 'pwm', pin: 13 }, ok: { type: 'servo', pin: 9, safe_value: 90 } },
    sensors: { knob: { type: 'analog', pin: 'A9' } },
  }, 'test:bad');
  const d = new JohnnyFiveDriver(bad.drivers.get('uno')!, { clock: new VirtualClock(), twin: (o) => new MockFirmataIo(o) });
  await rejectsWith(d.open([...bad.actuators.values()], [...bad.sensors.values()]), 'ERR_BOARD_PROFILE',
    /arm: pin 0 does not support SERVO.*fan: pin 13 does not support PWM.*knob: pin A9: the board has no analog channel 9/);
  const rows = await d.probe([...bad.actuators.values()], []);
  assert.ok(rows.every((x) => !x.ok && /closed|not connected/.test(x.detail)), JSON.stringify(rows));
});

test('close brings commanded outputs to safe values, leaves "hold" servos, stops timers and is safe twice', async () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
  const baseline = timers();
  const r = await rig();
  await r.driver.read(r.s('force'));
  assert.ok(timers() > baseline, 'johnny-five samples sensors on an interval while open');
  await r.driver.write({ actuator: r.a('winch') }, 0.8);
  await r.driver.write({ actuator: r.a('led') }, true);
  await r.driver.write({ actuator: r.a('arm') }, 30);
  await r.driver.write({ actuator: r.a('claw') }, 70);
  const io = r.driver.mockIo!;
  const clawBefore = r.ops(2, 'servoWrite').length;
  await r.driver.close();
  await r.driver.close();
  assert.equal(io.pinValue(6), 0, 'motor stopped');
  assert.equal(io.pinValue(13), 0, 'led off');
  assert.equal(io.pinValue(9), 1500, 'arm at its safe 90 degrees');
  assert.equal(r.ops(2, 'servoWrite').length, clawBefore, 'the claw holds');
  assert.equal(io.isClosed, true);
  assert.equal(timers(), baseline, 'no johnny-five timer keeps the process alive');
  const five = require('johnny-five') as { Board: { cache: unknown[] } };
  assert.equal(five.Board.cache.length, 0, 'the Board is out of johnny-five\'s global cache');
  await rejectsWith(r.driver.write({ actuator: r.a('led') }, true), 'ERR_DRIVER', /closed/);
});

test('a board that never answers Firmata fails open with a clear timeout, and leaves nothing running', async () => {
  const p = profile({ mock_silent: true, timeout_ms: 30 });
  const d = new JohnnyFiveDriver(p.drivers.get('uno')!, { clock: new VirtualClock(), twin: (o) => new MockFirmataIo(o) });
  await rejectsWith(d.open([...p.actuators.values()], []), 'ERR_DRIVER_UNAVAILABLE', /did not answer Firmata within 30 ms: is StandardFirmata flashed/);
  await d.close();
});

/** A serialport 13 mock port that answers like an Uno running StandardFirmata. */
class FakeUno extends SerialPortMock {
  static last: FakeUno | undefined;
  constructor(options: { path: string; baudRate: number; autoOpen: false }) {
    super(options);
    FakeUno.last = this;
    this.on('open', () => setImmediate(() => {
      // On reset the firmware reports its protocol version, then its name ("U").
      this.send([0xF9, 2, 5, 0xF0, 0x79, 2, 5, 0x55, 0x00, 0xF7]);
    }));
  }
  send(bytes: number[]): void {
    this.port?.emitData(Buffer.from(bytes));
  }
  override write(chunk: unknown, ...rest: never[]): boolean {
    const ok = super.write(chunk as Buffer, ...rest);
    const b = [...(chunk as Buffer)];
    if (b[0] === 0xF0 && b[1] === 0x6B) setImmediate(() => this.send(capabilities()));
    if (b[0] === 0xF0 && b[1] === 0x69) setImmediate(() => this.send([0xF0, 0x6A, ...Array.from({ length: 20 }, (_, p) => (p >= 14 ? p - 14 : 127)), 0xF7]));
    return ok;
  }
  get recording(): number[] {
    return [...(this.port?.recording ?? [])];
  }
}

function capabilities(): number[] {
  const out = [0xF0, 0x6C];
  for (let p = 0; p < 20; p++) {
    if (p >= 2) out.push(0, 1, 1, 1); // INPUT, OUTPUT
    if (p >= 14) out.push(2, 10); // ANALOG, 10 bit
    if ([3, 5, 6, 9, 10, 11].includes(p)) out.push(3, 8); // PWM, 8 bit
    if (p >= 2 && p < 14) out.push(4, 14); // SERVO
    out.push(0x7F);
  }
  out.push(0xF7);
  return out;
}

function contains(hay: number[], needle: number[]): boolean {
  return hay.some((_, i) => needle.every((b, j) => hay[i + j] === b));
}

test('firmata-io over serialport 13: johnny-five\'s writes reach the wire as Firmata bytes; a closed port is a disconnect', async () => {
  SerialPortMock.binding.createPort('/dev/fake-uno', { echo: false, record: true });
  const p = parseBoardProfile({
    name: 'wire', drivers: { uno: { type: 'johnny-five', io: 'firmata', port: '/dev/fake-uno', timeout_ms: 5000 } },
    actuators: { arm: { type: 'servo', pin: 3, pwm_range: [500, 2500], safe_value: 90 }, led: { type: 'digital_out', pin: 13 } },
    sensors: { force: { type: 'analog', pin: 'A0', range: [0, 10] } },
  }, 'test:wire');
  const d = new JohnnyFiveDriver(p.drivers.get('uno')!, { clock: new VirtualClock(), SerialPort: FakeUno as unknown as SerialPortClass });
  try {
    await d.open([...p.actuators.values()], [...p.sensors.values()]);
    const uno = FakeUno.last!;
    await d.write({ actuator: p.actuators.get('arm')! }, 90);
    await d.write({ actuator: p.actuators.get('led')! }, true);
    // The stream writes asynchronously: wait (bounded) for the last expected bytes.
    for (let i = 0; i < 400 && !contains(uno.recording, [0x91, 0x20, 0x00]); i++) await new Promise((res) => setTimeout(res, 5));
    // SERVO_CONFIG pin 3, 500..2500 µs; then ANALOG_MESSAGE pin 3 = 90: an angle, which the
    // firmware maps into the configured range (a µs value below 544 would be read as an angle too).
    assert.ok(contains(uno.recording, [0xF0, 0x70, 3, 500 & 0x7F, 500 >> 7, 2500 & 0x7F, 2500 >> 7, 0xF7]), 'servo config on the wire');
    assert.ok(contains(uno.recording, [0xE3, 90, 0]), 'servo write on the wire: 90 degrees');
    assert.ok(!contains(uno.recording, [0xE3, 1500 & 0x7F, 1500 >> 7]), 'no microseconds on the wire');
    assert.ok(contains(uno.recording, [0x91, 0x20, 0x00]), 'digital port 1 with pin 13 high');
    uno.send([0xE0, 0x7F, 0x07]); // A0 = 1023
    let force: unknown;
    for (let i = 0; i < 400 && force !== 10; i++) {
      force = (await d.read(p.sensors.get('force')!)).value;
      if (force !== 10) await new Promise((res) => setTimeout(res, 5));
    }
    assert.equal(force, 10);
    await new Promise<void>((res) => uno.close(() => res()));
    await rejectsWith(d.write({ actuator: p.actuators.get('led')! }, false), 'ERR_DRIVER_DISCONNECTED', /on \/dev\/fake-uno/);
  } finally {
    await d.close();
    SerialPortMock.binding.reset();
  }
});

test('the old serialport 8 binding and the `firmata` package are neither installed nor loaded', async () => {
  // Runs after the tests above, in the same process: johnny-five and firmata-io were loaded and used.
  const loaded = Object.keys(require.cache);
  assert.ok(loaded.some((f) => f.includes('/node_modules/johnny-five/lib/board.js')), 'johnny-five was loaded (control)');
  assert.ok(loaded.some((f) => f.includes('/node_modules/firmata-io/lib/firmata.js')), 'firmata-io was loaded (control)');
  assert.deepEqual(loaded.filter((f) => /\/node_modules\/(firmata|@serialport\/bindings|browser-serialport)\//.test(f)), []);
  const serialports = loaded.filter((f) => /\/node_modules\/serialport\/package\.json$/.test(f) || /\/serialport\/dist\/index\.js$/.test(f));
  for (const f of serialports) assert.doesNotMatch(f, /johnny-five|firmata\//);
  // package.json "overrides" point johnny-five's optional serialport at ours: no serialport 8, no old native binding on disk.
  const fromFive = createRequire(require.resolve('johnny-five'));
  const sp = JSON.parse(readFileSync(fromFive.resolve('serialport/package.json'), 'utf8')) as { version: string };
  assert.equal(sp.version.split('.')[0], '13');
  assert.throws(() => require.resolve('@serialport/bindings'), /Cannot find module/);
});

/** boards/arduino-arm.yaml with `io: mock`, the way the profile's comment tells a user to try it. */
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

test('an e-stop button on a Firmata digital input: pull-up, a press reported at once, chatter ignored, the release debounced', async () => {
  const r = await rig();
  try {
    const seen: boolean[] = [];
    const stop = await r.driver.watch({ pin: 16, active_low: true, debounce_ms: 20 }, (active) => seen.push(active));
    const io = r.driver.mockIo!;
    assert.deepEqual(r.ops(16, 'pinMode'), ['PULLUP']);
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(seen, [false], 'released at start (the pull-up holds the pin high)');
    io.setDigital(16, 0);
    assert.deepEqual(seen, [false, true], 'the press is reported on the first low sample, not after the debounce');
    for (const level of [1, 0, 1, 0, 1] as const) io.setDigital(16, level);
    assert.deepEqual(seen, [false, true], 'contact chatter reports nothing');
    const until = Date.now() + 2000;
    while (seen.length < 3 && Date.now() < until) await new Promise((res) => setTimeout(res, 5));
    assert.deepEqual(seen, [false, true, false], 'released once the pin stayed high for the debounce time');
    stop();
    io.setDigital(16, 0);
    assert.equal(seen.length, 3, 'nothing after unsubscribing');
    await rejectsWith(r.driver.watch({ pin: 0 }, () => undefined), 'ERR_BOARD_PROFILE', /pin 0 cannot be a digital input/);
  } finally {
    await r.driver.close();
  }
});

test('a Firmata board lost while its e-stop input is watched: the watcher hears it', async () => {
  const r = await rig();
  try {
    const lost: string[] = [];
    await r.driver.watch({ pin: 16 }, () => undefined, (reason) => lost.push(reason));
    r.driver.mockIo!.disconnect();
    assert.equal(lost.length, 1);
    assert.match(lost[0] ?? '', /johnny-five board "uno".*closed/);
  } finally {
    await r.driver.close();
  }
});
