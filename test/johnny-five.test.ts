/**
 * The johnny-five driver through johnny-five's real Board/Led/Servo/Motor/Sensor code, against
 * the mock Firmata IO (what each pin saw): outputs, servos, motors, sensors, the board lost
 * mid-run, probe, close, and an e-stop button on a digital input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../lib/clock.js';
import { createRequire } from 'node:module';
import { MockFirmataIo } from '../drivers/johnny-five/twins/j5-mock-io.js';
import { JohnnyFiveDriver } from '../drivers/johnny-five/johnny-five.js';
import { parseBoardProfile } from '../safety/board-profile.js';
import { profile, rig, OUTPUT_OPS, rejectsWith } from './johnny-five-harness.js';

const require = createRequire(import.meta.url);

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
