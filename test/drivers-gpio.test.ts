/**
 * The GPIO driver against fake sysfs trees: chip discovery with the offset bases of kernels >= 6.6
 * and the Raspberry Pi 5, outputs, hardware PWM for servos and H-bridge motors, inputs with edges
 * (the e-stop button), release on close, the watchdog's failsafe writes, and a clear error on a
 * machine without GPIO (through the real onoff library).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RealClock } from '../lib/clock.js';
import { isLlmosError } from '../lib/errors.js';
import { GpioDriver } from '../drivers/gpio/gpio.js';
import { OnoffBackend } from '../drivers/gpio/lines.js';
import { mainChip } from '../drivers/gpio/chips.js';
import { writeFailsafe } from '../drivers/failsafe.js';
import { WriteRecorder } from '../drivers/recorder.js';
import { FakeSysfs, type FakeLayout } from '../drivers/gpio/twins/fake-sysfs.js';
import type { ActuatorSpec, SensorSpec } from '../drivers/types.js';
import { readSimLog, simRobot, tempDir } from './helpers.js';
import { runMain } from './run-main.js';
import { packagePath } from '../lib/paths.js';

const clock = new RealClock();

function actuator(name: string, type: ActuatorSpec['type'], extra: Partial<ActuatorSpec> = {}): ActuatorSpec {
  return { name, type, driver: 'gpio', channel: {}, range: [-1, 1], on_range: 'reject', on_rate: 'ramp', safe_value: 0, stop_category: 0, ...extra };
}

function driverOn(fake: FakeSysfs, options: Record<string, unknown> = {}, recorder?: WriteRecorder): GpioDriver {
  return new GpioDriver({ name: 'gpio', clock, kernel: fake, options: { sysfs_root: fake.gpioRoot, pwm_root: fake.pwmRoot, ...options }, ...(recorder ? { recorder } : {}) });
}

const LED = actuator('led', 'digital_out', { channel: { pin: 17 }, range: [0, 1], safe_value: false });

for (const [layout, expected] of [['pi4', 17], ['pi4-6.6', 529], ['pi5', 588]] as Array<[FakeLayout, number]>) {
  test(`BCM 17 is sysfs gpio${expected} on a ${layout} tree: exported, driven, released on close`, async () => {
    const fake = new FakeSysfs({ layout });
    try {
      const d = driverOn(fake);
      await d.open([LED], []);
      assert.equal(fake.isExported(expected), true);
      assert.equal(fake.read(expected, 'direction'), 'low', 'an output starts at its safe level, with no glitch');
      await d.write({ actuator: LED }, true);
      assert.equal(fake.read(expected), '1');
      await d.write({ actuator: LED }, false);
      assert.equal(fake.read(expected), '0');
      await d.close();
      assert.equal(fake.isExported(expected), false, 'the pin is unexported on close');
      await assert.rejects(d.write({ actuator: LED }, true), /closed/);
    } finally {
      fake.remove();
    }
  });
}

test('Jetson: pins are line offsets of tegra234-gpio; an unknown tree asks for chip_label', () => {
  const jetson = new FakeSysfs({ layout: 'jetson-orin' });
  const odd = new FakeSysfs({ chips: [{ base: 100, label: 'vendor-a', ngpio: 16 }, { base: 200, label: 'vendor-b', ngpio: 16 }] });
  try {
    assert.equal(mainChip(jetson.gpioRoot).base, 348);
    assert.throws(() => mainChip(odd.gpioRoot), (e: unknown) => isLlmosError(e) && /chip_label/.test(e.message) && /vendor-a/.test(e.message));
    assert.equal(mainChip(odd.gpioRoot, 'vendor-b').base, 200);
    assert.throws(() => mainChip(odd.gpioRoot, 'nope'), /no GPIO chip labelled "nope".*vendor-a/);
  } finally {
    jetson.remove();
    odd.remove();
  }
});

test('no GPIO on this machine: the error names the pin and the reason, through onoff too', async () => {
  const missing = new GpioDriver({ name: 'gpio', clock, options: { sysfs_root: join(tempDir(), 'no-such') } });
  await assert.rejects(missing.open([LED], []), (e: unknown) => isLlmosError(e) && e.code === 'ERR_DRIVER_UNAVAILABLE' && /actuator led \(pin 17\)/.test(e.message) && /does not exist/.test(e.message));
  // The real onoff library (whose root is fixed at /sys/class/gpio, absent here): chip discovery
  // succeeds on a fake tree, then onoff itself fails to export, and the error still names the pin.
  const onoff = createRequire(import.meta.url)('onoff') as { Gpio: { accessible: boolean } };
  assert.equal(typeof onoff.Gpio.accessible, 'boolean');
  if (!existsSync('/sys/class/gpio/export')) {
    const fake = new FakeSysfs({ layout: 'pi5' });
    try {
      const d = new GpioDriver({ name: 'gpio', clock, backend: new OnoffBackend(), options: { sysfs_root: fake.gpioRoot } });
      await assert.rejects(d.open([LED], []), (e: unknown) => isLlmosError(e) && e.code === 'ERR_DRIVER_UNAVAILABLE' && /pin 17 \(sysfs gpio588\)/.test(e.message));
    } finally {
      fake.remove();
    }
  }
});

test('a servo gets 50 Hz hardware PWM with the pulse for its angle; a pin without PWM is refused by name', async () => {
  const fake = new FakeSysfs({ layout: 'pi4' });
  try {
    const servo = actuator('arm', 'servo', { channel: { pin: 18, pwm_range: [500, 2500] }, range: [0, 180], safe_value: 90 });
    const d = driverOn(fake);
    await d.open([servo], []);
    assert.equal(fake.readPwm(0, 0, 'period'), '20000000');
    await d.write({ actuator: servo }, 90);
    assert.equal(fake.readPwm(0, 0, 'duty_cycle'), '1500000');
    assert.equal(fake.readPwm(0, 0, 'enable'), '1');
    await d.write({ actuator: servo }, 0);
    assert.equal(fake.readPwm(0, 0, 'duty_cycle'), '500000');
    await d.close();
    const bad = driverOn(fake);
    await assert.rejects(bad.open([actuator('arm', 'servo', { channel: { pin: 17 }, range: [0, 180] })], []), /pin 17 has no hardware PWM/);
    await assert.rejects(driverOn(fake).open([actuator('arm', 'servo', { channel: { pin: 18 }, range: [-90, 90] })], []), /within 0\.\.180/);
    const clash = driverOn(fake);
    await assert.rejects(clash.open([servo, actuator('pan', 'servo', { channel: { pin: 12 }, range: [0, 180] })], []), /PWM channel 0 of pwmchip0, which actuator arm \(pin 18\) already uses/);
  } finally {
    fake.remove();
  }
});

test('H-bridge motors of a drive base: direction pins, speed as duty, speed cut before a reversal, invert, failsafe', async () => {
  const fake = new FakeSysfs({ layout: 'pi5', pwmChips: 3 });
  try {
    const base = actuator('base', 'differential_drive', {
      left: { pin: 12, dir_pin: 5, cdir_pin: 6 }, right: { pin: 13, dir_pin: 20, cdir_pin: 21, invert: true },
      calibration: { max_speed_mps: 0.4, max_turn_dps: 90 },
    });
    const recorder = new WriteRecorder(clock);
    const d = driverOn(fake, { pwm_chip: 2 }, recorder);
    await d.open([base], []);
    const gpio = (pin: number): number => 571 + pin;
    await d.write({ actuator: base, channel: 'left' }, 0.5);
    assert.deepEqual([fake.read(gpio(5)), fake.read(gpio(6)), fake.readPwm(2, 0, 'duty_cycle')], ['1', '0', '500000']);
    await d.write({ actuator: base, channel: 'right' }, 0.5);
    assert.deepEqual([fake.read(gpio(20)), fake.read(gpio(21)), fake.readPwm(2, 1, 'duty_cycle')], ['0', '1', '500000'], 'the mirrored motor turns the other way');
    await d.write({ actuator: base, channel: 'left' }, -0.25);
    assert.deepEqual([fake.read(gpio(5)), fake.read(gpio(6)), fake.readPwm(2, 0, 'duty_cycle')], ['0', '1', '250000']);
    assert.deepEqual(recorder.writes.map((w) => [w.channel, w.value, w.via]), [['left', 0.5, 'gpio:12'], ['right', 0.5, 'gpio:13'], ['left', -0.25, 'gpio:12']]);
    // What the watchdog process does when this one stalls: no library, just files.
    const target = d.failsafeTarget();
    assert.ok(target && target.kind === 'sysfs-gpio');
    writeFailsafe(target, [], 'test');
    assert.deepEqual([fake.read(gpio(5)), fake.read(gpio(6)), fake.read(gpio(20)), fake.read(gpio(21))], ['0', '0', '0', '0']);
    assert.deepEqual([fake.readPwm(2, 0, 'duty_cycle'), fake.readPwm(2, 1, 'duty_cycle')], ['0', '0']);
    await d.close();
    assert.equal(fake.isExported(gpio(5)), false);
  } finally {
    fake.remove();
  }
});

test('a digital input reads its level; an analog sensor on GPIO is refused with the reason', async () => {
  const fake = new FakeSysfs({ layout: 'pi4' });
  try {
    const bumper: SensorSpec = { name: 'bumper', type: 'digital', driver: 'gpio', channel: { pin: 23 } };
    const d = driverOn(fake);
    await d.open([], [bumper]);
    assert.deepEqual(await d.read(bumper), { value: false });
    fake.setInput(23, 1);
    assert.deepEqual(await d.read(bumper), { value: true });
    await d.close();
    const analog: SensorSpec = { name: 'dist', type: 'analog', driver: 'gpio', channel: { pin: 4 } };
    await assert.rejects(driverOn(fake).open([], [analog]), /needs an ADC/);
  } finally {
    fake.remove();
  }
});

test('the e-stop button on a GPIO input latches the e-stop mid-motion; only a release clears it', async () => {
  const fake = new FakeSysfs({ layout: 'pi5', pwmChips: 3 });
  const dir = tempDir();
  // Lines a udev rule exported at boot: the driver finds them and leaves them exported.
  for (const n of [5, 6, 20, 21, 17, 24]) fake.exported('gpio', fake.gpioRoot, 571 + n);
  for (const ch of [0, 1]) fake.exported('pwm', join(fake.pwmRoot, 'pwmchip2'), ch);
  const board = join(dir, 'board.yaml');
  writeFileSync(board, `name: rover
drivers:
  gpio: { type: gpio, sysfs_root: ${fake.gpioRoot}, pwm_root: ${fake.pwmRoot}, backend: sysfs, pwm_chip: 2 }
actuators:
  base:
    type: differential_drive
    left: { pin: 12, dir_pin: 5, cdir_pin: 6 }
    right: { pin: 13, dir_pin: 20, cdir_pin: 21 }
    max_rate: 4
    calibration: { max_speed_mps: 0.5, max_turn_dps: 120 }
  led: { type: digital_out, pin: 17, safe_value: false }
estop: { driver: gpio, pin: 24, debounce_ms: 0 }
`);
  const r = await simRobot({ board, realTime: true, shippedTraces: false });
  const os = r.os;
  try {
    const run = os.gate.call({ name: 'drive', args: { distance_m: 2 } }, { source: 'api', runId: 'r1' });
    const deadline = Date.now() + 5000;
    while (fake.readPwm(2, 0, 'duty_cycle') === '0' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.notEqual(fake.readPwm(2, 0, 'duty_cycle'), '0', 'the base moved');
    fake.setInput(24 + 571, 1);
    await assert.rejects(run, (e: unknown) => isLlmosError(e) && e.code === 'ERR_ESTOP_ENGAGED');
    assert.equal(os.gate.estopEngaged, true);
    // The base is stop category 1: a controlled ramp to rest, then the cut.
    const until = Date.now() + 3000;
    const atRest = (): boolean => fake.readPwm(2, 0, 'duty_cycle') === '0' && fake.readPwm(2, 1, 'duty_cycle') === '0';
    while (!atRest() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.equal(fake.readPwm(2, 0, 'duty_cycle'), '0');
    assert.equal(fake.readPwm(2, 1, 'duty_cycle'), '0');
    fake.setInput(24 + 571, 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(os.gate.estopEngaged, true, 'letting go of the button does not release the e-stop');
    await assert.rejects(os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, { source: 'api', runId: 'r2' }), /e-stop/);
    // The release is refused until the driver has seen the button let go; a busy machine sees it late.
    const releaseBy = Date.now() + 5000;
    const release = async (): Promise<boolean> => {
      for (;;) {
        try { return os.releaseEstop('test'); } catch (e) {
          if (!isLlmosError(e) || e.code !== 'ERR_ESTOP_INPUT_ACTIVE' || Date.now() > releaseBy) throw e;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    assert.equal(await release(), true);
    await os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, { source: 'api', runId: 'r3' });
    assert.equal(fake.read(571 + 17), '1');
    await r.cleanup();
    assert.equal(fake.read(571 + 17), '0', 'shutdown leaves the light at its safe value');
  } finally {
    await os.shutdown();
    fake.remove();
  }
});

test('the pi-rover example runs on its twins: --check-board finds every pin at its Pi 5 offset, a goal drives the wheels', async () => {
  const board = packagePath('boards', 'pi-rover.yaml');
  const check = await runMain('run-follower', ['--board', board, '--twins', '--check-board']);
  assert.equal(check.code, 0, check.stderr + check.stdout);
  assert.match(check.stdout, /led\s+actuator\s+digital_out\s+gpio \(gpio\)\s+ok\s+pin 17 = gpio588 on pinctrl-rp1/);
  const missing = await runMain('run-follower', ['--board', board, '--check-board']);
  if (!existsSync('/sys/class/gpio/export')) {
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /MISSING\s+ERR_DRIVER_UNAVAILABLE: actuator led: no GPIO/);
  }
  const dir = tempDir();
  const log = join(dir, 'rover.jsonl');
  const copy = join(dir, 'traces');
  cpSync(packagePath('traces'), copy, { recursive: true });
  const go = await runMain('run-follower', ['--board', board, '--twins', '--sim-time', 'virtual', '--sim-log', log, '--traces', copy, '--state', join(dir, 'state'), 'drive forward 1 meter']);
  assert.equal(go.code, 0, go.stderr + go.stdout);
  const wheels = readSimLog(log).filter((w) => w.actuator === 'base');
  assert.ok(wheels.some((w) => w.channel === 'left' && (w as { via?: string }).via === 'gpio:12' && (w.value as number) > 0));
  assert.ok(wheels.some((w) => w.channel === 'right' && (w as { via?: string }).via === 'gpio:13'));
  assert.equal(wheels.filter((w) => w.channel === 'left').at(-1)?.value, 0, 'the base ends at rest');
});

test('an active-low output starts physically off: direction is the raw level, value the logical one', async () => {
  const fake = new FakeSysfs({ layout: 'pi4' });
  try {
    const relay = actuator('relay', 'digital_out', { channel: { pin: 22, active_low: true }, range: [0, 1], safe_value: false });
    const d = driverOn(fake);
    await d.open([relay], []);
    assert.equal(fake.read(22, 'active_low'), '1');
    assert.equal(fake.read(22, 'direction'), 'high', 'logical off on an active-low line is a high pin');
    await d.write({ actuator: relay }, true);
    assert.equal(fake.read(22), '1', 'value is written logically; the kernel inverts it');
    await d.close();
  } finally {
    fake.remove();
  }
});

test('a reversal never switches direction with the PWM on; a reversible motor without dir_pin is refused', async () => {
  const fake = new FakeSysfs({ layout: 'pi4' });
  const { PwmChannel } = await import('../drivers/gpio/pwm.js');
  const events: string[] = [];
  const original = PwmChannel.prototype.setDuty;
  PwmChannel.prototype.setDuty = function (this: InstanceType<typeof PwmChannel>, f: number) { events.push(`duty ${f}`); original.call(this, f); };
  try {
    const winch = actuator('winch', 'motor', { channel: { pin: 18, dir_pin: 5, cdir_pin: 6 } });
    const d = driverOn(fake);
    await d.open([winch], []);
    const dirs = (): string => `${fake.read(5)}${fake.read(6)}`;
    await d.write({ actuator: winch }, 0.5);
    events.length = 0;
    const before = dirs();
    await d.write({ actuator: winch }, -0.5);
    assert.equal(before, '10');
    assert.equal(dirs(), '01');
    assert.deepEqual(events, ['duty 0', 'duty 0.5'], 'the PWM is cut before the direction pins change, then set');
    await d.close();
    await assert.rejects(driverOn(fake).open([actuator('hoist', 'motor', { channel: { pin: 18 } })], []), /needs dir_pin/);
  } finally {
    PwmChannel.prototype.setDuty = original;
    fake.remove();
  }
});

test('the e-stop input filter: a press at once, chatter ignored, the release debounced', async () => {
  const { pressFilter } = await import('../drivers/debounce.js');
  const seen: boolean[] = [];
  const f = pressFilter((a) => seen.push(a), 30);
  f.sample(false);
  f.sample(true);
  assert.deepEqual(seen, [false, true]);
  for (const a of [false, true, false, true, false]) f.sample(a);
  assert.deepEqual(seen, [false, true], 'bounces while pressed report nothing');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(seen, [false, true, false]);
  f.sample(true);
  f.stop();
  f.sample(false);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen, [false, true, false, true], 'nothing after stop');
});
