/**
 * The GPIO driver and the runtime against a real Linux kernel's GPIO: gpio-sim in the QEMU guest
 * that test/gpio-kernel.test.ts boots. Runs only there (LLMOS_GPIO_GUEST=1, as root, with the
 * host's root read-only and a tmpfs /tmp); anywhere else this file registers no tests.
 *
 * Two simulated chips stand in for a Raspberry Pi 5: one labelled like a brcmstb bank and the
 * header pins' `pinctrl-rp1`, each at the non-zero sysfs base the kernel gives it. Lines go
 * through onoff (epoll edge interrupts) exactly as on a board. PWM has no simulator in the kernel:
 * the motors' speed and the servo stay on the fake sysfs PWM twin (drivers/gpio/twins/fake-sysfs.ts).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { RealClock } from '../../lib/clock.js';
import { isLlmosError } from '../../lib/errors.js';
import { packagePath } from '../../lib/paths.js';
import { GpioDriver } from '../../drivers/gpio/gpio.js';
import { mainChip, sysfsNumber } from '../../drivers/gpio/chips.js';
import { FakeSysfs } from '../../drivers/gpio/twins/fake-sysfs.js';
import type { ActuatorSpec, SensorSpec } from '../../drivers/types.js';
import { runBin, simRobot, tempDir } from '../helpers.js';
import { GpioTrace, createSimChip, exportedLines, until, type SimChip } from './gpio-sim.js';

const clock = new RealClock();
const SYSFS = '/sys/class/gpio';
// pi-rover's lines: drive base direction pins, the light, the bumper, the e-stop button.
const DIR_PINS = [5, 6, 20, 21] as const;
const LED = 17;
const BUMPER = 23;
const ESTOP = 24;
/**
 * TCG runs this guest's CPU some ten times slower than a Raspberry Pi 5, so a loaded event loop
 * pauses for seconds; the runtime's stall window (safety.deadman_ms, 500 ms by default) is widened
 * so that the safety watchdog stays on but does not trip on the emulator's slowness.
 */
const STALL_MS = 30_000;

/** A traces directory with only the named shipped traces: the runtime boots faster on TCG. */
function traces(...names: string[]): string {
  const dir = join(tempDir(), 'traces');
  mkdirSync(dir);
  for (const n of names) cpSync(packagePath('traces', `${n}.yaml`), join(dir, `${n}.yaml`));
  return dir;
}

function actuator(name: string, type: ActuatorSpec['type'], extra: Partial<ActuatorSpec> = {}): ActuatorSpec {
  return { name, type, driver: 'gpio', channel: {}, range: [0, 1], on_range: 'reject', on_rate: 'ramp', safe_value: false, stop_category: 0, ...extra };
}

if (process.env['LLMOS_GPIO_GUEST'] === '1') register();

function register(): void {
  let rp1: SimChip;
  let other: SimChip;
  let pwm: FakeSysfs;
  let board: string;

  before(() => {
    // The other chip first, so that rp1 is neither the only chip nor the first one.
    other = createSimChip('brcmstb', 'gpio-brcmstb@107d508500', 32);
    rp1 = createSimChip('rp1', 'pinctrl-rp1', 54);
    // Pull resistors as on the rover: bumper (active low) released, e-stop button at rest (low).
    rp1.pull(BUMPER, 'up');
    rp1.pull(ESTOP, 'down');
    // The PWM twin, its channels exported as a udev rule would leave them.
    pwm = new FakeSysfs({ pwmChips: 3 });
    for (const ch of [0, 1, 2, 3]) pwm.exported('pwm', join(pwm.pwmRoot, 'pwmchip2'), ch);
    const profile = parse(readFileSync(packagePath('boards', 'pi-rover.yaml'), 'utf8')) as Record<string, unknown> & { drivers: { gpio: Record<string, unknown> } };
    delete profile['$schema'];
    profile.drivers.gpio['pwm_root'] = pwm.pwmRoot;
    board = join(tempDir(), 'pi-rover-gpio-sim.yaml');
    writeFileSync(board, stringify(profile));
  });

  const duty = (ch: number): string => pwm.readPwm(2, ch, 'duty_cycle');
  const dirs = (): string => DIR_PINS.map((p) => rp1.level(p)).join('');

  test('chip discovery: the pins are offsets of the chip labelled pinctrl-rp1 at its non-zero sysfs base, among other chips', () => {
    assert.ok(rp1.base > 0 && other.base > 0, `bases ${rp1.base}, ${other.base}`);
    assert.notEqual(rp1.base, other.base);
    const chip = mainChip(SYSFS);
    assert.deepEqual([chip.label, chip.base, chip.ngpio], ['pinctrl-rp1', rp1.base, 54]);
    assert.equal(mainChip(SYSFS, 'gpio-brcmstb@107d508500').base, other.base);
    assert.equal(sysfsNumber(chip, LED, 'led'), rp1.base + LED);
    assert.throws(() => sysfsNumber(chip, 54, 'led'), /pin 54 is not a line of gpiochip\d+ \(pinctrl-rp1, 54 lines\)/);
  });

  test('an output through onoff: BCM 17 is gpio<base+17>, starts at its safe level, drives the kernel line, is unexported on close', async () => {
    const led = actuator('led', 'digital_out', { channel: { pin: LED } });
    const d = new GpioDriver({ name: 'gpio', clock, options: {} });
    await d.open([led], []);
    try {
      assert.equal(rp1.exported(LED), true, `gpio${rp1.gpio(LED)} exported`);
      assert.equal(readFileSync(join(SYSFS, `gpio${rp1.gpio(LED)}`, 'direction'), 'utf8').trim(), 'out');
      assert.equal(rp1.level(LED), 0, 'safe level');
      await d.write({ actuator: led }, true);
      assert.equal(rp1.level(LED), 1, 'the kernel line went high');
      await d.write({ actuator: led }, false);
      assert.equal(rp1.level(LED), 0);
      assert.equal(other.level(LED), 0, 'the other chip\'s line 17 was never touched');
    } finally {
      await d.close();
    }
    assert.equal(rp1.exported(LED), false, 'unexported on close');
    await assert.rejects(d.write({ actuator: led }, true), /closed/);
  });

  test('active-low: an output rests physically high and "on" pulls it low; an input reads a low line as active', async () => {
    const relay = actuator('relay', 'digital_out', { channel: { pin: 22, active_low: true } });
    const bumper: SensorSpec = { name: 'bumper', type: 'digital', driver: 'gpio', channel: { pin: BUMPER, active_low: true } };
    const d = new GpioDriver({ name: 'gpio', clock, options: {} });
    await d.open([relay], [bumper]);
    try {
      assert.equal(rp1.level(22), 1, 'logical off on an active-low line is a high pin, from the first moment');
      await d.write({ actuator: relay }, true);
      assert.equal(rp1.level(22), 0);
      await d.write({ actuator: relay }, false);
      assert.equal(rp1.level(22), 1);
      assert.deepEqual(await d.read(bumper), { value: false }, 'pulled up: released');
      rp1.pull(BUMPER, 'down');
      assert.deepEqual(await d.read(bumper), { value: true }, 'pulled low: pressed');
    } finally {
      rp1.pull(BUMPER, 'up');
      await d.close();
    }
    assert.equal(rp1.exported(22) || rp1.exported(BUMPER), false);
  });

  test('a line left exported active-low by someone else is taken over with the board\'s polarity', async () => {
    // A udev rule, another program or a crashed run can leave a line exported with active_low=1.
    writeFileSync(join(SYSFS, 'export'), String(rp1.gpio(LED)));
    writeFileSync(join(SYSFS, `gpio${rp1.gpio(LED)}`, 'active_low'), '1');
    const led = actuator('led', 'digital_out', { channel: { pin: LED } });
    const d = new GpioDriver({ name: 'gpio', clock, options: {} });
    await d.open([led], []);
    try {
      assert.equal(rp1.level(LED), 0, 'off is a low pin on an active-high light');
      await d.write({ actuator: led }, true);
      assert.equal(rp1.level(LED), 1, 'on is a high pin');
    } finally {
      await d.close();
    }
  });

  test('edge interrupts: a press on the e-stop input reaches the watcher through epoll, at once; the release after the debounce', async () => {
    const d = new GpioDriver({ name: 'gpio', clock, options: {} });
    const seen: boolean[] = [];
    const stop = await d.watch({ pin: ESTOP, debounce_ms: 20 }, (active) => seen.push(active));
    try {
      assert.deepEqual(seen, [false], 'the level at start counts');
      rp1.pull(ESTOP, 'up');
      await until(() => seen.length >= 2, 'the press');
      assert.deepEqual(seen, [false, true]);
      rp1.pull(ESTOP, 'down');
      await until(() => seen.length >= 3, 'the release');
      assert.deepEqual(seen, [false, true, false]);
    } finally {
      stop();
      rp1.pull(ESTOP, 'down');
      await d.close();
    }
    assert.equal(rp1.exported(ESTOP), false, 'the watched line is unexported on close');
  });

  test('board check (run-follower --check-board, llmos board check) finds every pi-rover pin at pinctrl-rp1\'s base and exports nothing', async () => {
    const check = await runBin('run-follower.js', ['--board', board, '--check-board']);
    assert.equal(check.code, 0, check.stderr + check.stdout);
    assert.match(check.stdout, new RegExp(`led\\s+actuator\\s+digital_out\\s+gpio \\(gpio\\)\\s+ok\\s+pin 17 = gpio${rp1.base + 17} on pinctrl-rp1`));
    assert.match(check.stdout, new RegExp(`pin 5 = gpio${rp1.base + 5} on pinctrl-rp1`));
    assert.match(check.stdout, /pin 12 = gpio\d+ on pinctrl-rp1 \(pwmchip2\/pwm0\)/);
    const admin = await runBin('llmos.js', ['board', 'check', '--board', board, '--json']);
    assert.equal(admin.code, 0, admin.stderr + admin.stdout);
    const rows = (JSON.parse(admin.stdout) as { ok: boolean; rows: Array<{ name: string; ok: boolean; detail: string }> }).rows;
    for (const name of ['base', 'pan', 'led', 'bumper']) assert.ok(rows.find((r) => r.name === name)?.ok, `${name}: ${JSON.stringify(rows)}`);
    assert.match(rows.find((r) => r.name === 'bumper')?.detail ?? '', new RegExp(`pin 23 = gpio${rp1.base + BUMPER} on pinctrl-rp1`));
    assert.deepEqual(exportedLines(), []);
  });

  test('traces drive the kernel lines: the light on and off, the base forward (direction lines), all released at shutdown', async () => {
    const r = await simRobot({ board, realTime: true, shippedTraces: false, overrides: { paths: { traces: traces('led-on', 'led-off', 'drive-forward') }, safety: { deadman_ms: STALL_MS } } });
    try {
      const on = await r.os.execute('turn on the led');
      assert.equal(on.ok, true, JSON.stringify(on));
      assert.equal(rp1.level(LED), 1);
      const off = await r.os.execute('turn off the led');
      assert.equal(off.ok, true, JSON.stringify(off));
      assert.equal(rp1.level(LED), 0);
      const trace = new GpioTrace();
      const result = await r.os.execute('drive forward 1 meter');
      assert.equal(result.ok, true, JSON.stringify(result));
      // The kernel's record of the direction lines: left forward (dir 5), right mirrored (cdir 21),
      // each raised for the motion and lowered at its end; the other two never raised.
      const runs = (pin: number): string => trace.sets(rp1.gpio(pin)).filter((v, i, a) => i === 0 || v !== a[i - 1]).join('');
      assert.match(runs(5), /^0?10$/, 'dir 5: raised once for the motion, lowered at its end');
      assert.match(runs(21), /^0?10$/, 'cdir 21: raised once for the motion, lowered at its end');
      assert.ok(!trace.sets(rp1.gpio(6)).includes(1) && !trace.sets(rp1.gpio(20)).includes(1), 'the backward lines stay low');
      assert.equal(dirs(), '0000', 'at rest the direction lines are low');
      assert.deepEqual([duty(0), duty(1)], ['0', '0']);
      assert.ok(DIR_PINS.every((p) => rp1.exported(p)) && rp1.exported(LED), 'lines held while the runtime runs');
    } finally {
      await r.cleanup();
    }
    assert.deepEqual(exportedLines(), [], 'shutdown unexports every line');
  });

  test('the e-stop button latches the e-stop mid-motion: the base stops, letting go does not release it', async () => {
    const r = await simRobot({ board, realTime: true, shippedTraces: false, overrides: { safety: { deadman_ms: STALL_MS } } });
    const os = r.os;
    try {
      // 3 m: some 13 s at the rover's speed, well inside its max_run_ms of 20 s.
      const run = os.gate.call({ name: 'drive', args: { distance_m: 3 } }, { source: 'api', runId: 'r1' });
      run.catch(() => undefined); // asserted below, once the button is pressed
      await until(() => rp1.level(5) === 1 && duty(0) !== '0', 'the base to move');
      rp1.pull(ESTOP, 'up');
      await assert.rejects(run, (e: unknown) => isLlmosError(e) && e.code === 'ERR_ESTOP_ENGAGED');
      assert.equal(os.gate.estopEngaged, true);
      await until(() => dirs() === '0000' && duty(0) === '0' && duty(1) === '0', 'the base at rest');
      rp1.pull(ESTOP, 'down');
      await until(() => readFileSync(join(SYSFS, `gpio${rp1.gpio(ESTOP)}`, 'value'), 'utf8').trim() === '0', 'the kernel to see the release');
      // Watch for a while: nothing may release the latch on its own.
      const until500 = Date.now() + 500;
      while (Date.now() < until500) {
        assert.equal(os.gate.estopEngaged, true, 'letting go of the button does not release the e-stop');
        await new Promise((res) => setTimeout(res, 10));
      }
      await assert.rejects(os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, { source: 'api', runId: 'r2' }), /e-stop/);
      assert.equal(rp1.level(LED), 0);
      await until(() => os.releaseEstop('test'), 'a release once the button is up', 10_000);
      await os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, { source: 'api', runId: 'r3' });
      assert.equal(rp1.level(LED), 1);
    } finally {
      rp1.pull(ESTOP, 'down');
      await r.cleanup();
    }
    assert.deepEqual(exportedLines(), []);
  });

  test('the CLI drives a line from standard input and unexports every line when SIGTERM ends it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.yaml'), `safety: { deadman_ms: ${STALL_MS} }\n`);
    const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--config', join(dir, 'config.yaml'), '--board', board, '--traces', traces('led-on'), '--state', join(dir, 'state'), '--json', '-'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    try {
      child.stdin.write('turn on the led\n');
      await until(() => out.includes('\n'), 'the goal\'s JSON line', 120_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${err}`); });
      const line = JSON.parse(out.split('\n')[0] ?? '') as { ok: boolean };
      assert.equal(line.ok, true, out);
      assert.equal(rp1.level(LED), 1, 'the process holds the light on');
      assert.equal(rp1.exported(LED), true);
      child.kill('SIGTERM');
      await exited;
      assert.deepEqual(exportedLines(), [], `every line unexported on exit; stderr: ${err}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  test('the runtime killed mid-motion (SIGKILL): the watchdog process lowers the direction lines through the kernel', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.yaml'), `safety: { deadman_ms: ${STALL_MS} }\n`);
    const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--config', join(dir, 'config.yaml'), '--board', board, '--traces', traces('drive-forward'), '--state', join(dir, 'state'), 'drive forward 3 meters'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<void>((res) => child.on('close', () => res()));
    try {
      await until(() => rp1.level(5) === 1 && rp1.level(21) === 1, 'the base to move', 120_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${err}`); });
      child.kill('SIGKILL');
      await exited;
      // The killed runtime unexported nothing: without the watchdog the lines would stay high.
      await until(() => dirs() === '0000' && duty(0) === '0' && duty(1) === '0', 'the watchdog\'s safe values')
        .catch((e: Error) => { throw new Error(`${e.message}: direction lines ${dirs()}, duty ${duty(0)}/${duty(1)}; stderr: ${err}`); });
    } finally {
      child.kill('SIGKILL');
      for (const l of exportedLines()) writeFileSync(join(SYSFS, 'unexport'), l.slice('gpio'.length));
    }
  });
}
