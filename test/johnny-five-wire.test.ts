/**
 * The johnny-five driver over firmata-io and serialport 13's mock binding (the Firmata bytes on
 * the wire), and proof that the `firmata` package and serialport 8's native binding are never
 * installed or loaded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { SerialPortMock } from 'serialport';
import { VirtualClock } from '../lib/clock.js';
import { JohnnyFiveDriver, type SerialPortClass } from '../drivers/johnny-five/johnny-five.js';
import { parseBoardProfile } from '../safety/board-profile.js';
import { profile, rejectsWith } from './johnny-five-harness.js';

const require = createRequire(import.meta.url);

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
