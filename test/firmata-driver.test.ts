/**
 * The johnny-five driver (johnny-five + firmata-io + serialport 13, as the runtime uses them)
 * against real StandardFirmata 2.4 running on an emulated ATmega328P (avr8js), through a socat
 * pty: what the firmware reports, and what its pins do, measured against the CPU's cycle counter.
 * Every connection resets the board, as opening a real Uno's port does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RealClock } from '../lib/clock.js';
import { JohnnyFiveDriver } from '../drivers/johnny-five/johnny-five.js';
import type { BoardProfile } from '../drivers/types.js';
import { parseBoardProfile } from '../safety/board-profile.js';
import { useEmulatedUno, type EmulatedUno } from './real/uno.js';

const board = useEmulatedUno();

function profile(path: string, actuators: Record<string, unknown>, sensors: Record<string, unknown> = {}): BoardProfile {
  return parseBoardProfile({ name: 'real-uno', drivers: { uno: { type: 'johnny-five', io: 'firmata', port: path, timeout_ms: 60000 } }, actuators, sensors }, 'test:real-uno');
}

interface RealIo {
  firmware: { name?: string; version?: { major: number; minor: number } };
  version: { major?: number; minor?: number };
  pins: Array<{ supportedModes: number[]; analogChannel: number }>;
  queryPinState(pin: number, cb: () => void): void;
}

/** Opens the driver on the emulated board (the open resets it and waits for StandardFirmata). */
async function connect(u: EmulatedUno, p: BoardProfile): Promise<{ d: JohnnyFiveDriver; io: RealIo }> {
  await u.ready();
  const d = new JohnnyFiveDriver(p.drivers.get('uno')!, { clock: new RealClock() });
  await d.open([...p.actuators.values()], [...p.sensors.values()]);
  return { d, io: (d as unknown as { io: RealIo }).io };
}

/** A round trip through the firmware: every command sent before it has been carried out. */
function sync(io: RealIo, pin: number): Promise<void> {
  return new Promise((resolve) => io.queryPinState(pin, () => resolve()));
}

test('StandardFirmata answers: firmware report, capability and analog mapping; the LED on pin 13 (PB5) follows digital_write', async (t) => {
  const u = board(t);
  if (!u) return;
  const p = profile(u.path, { led: { type: 'digital_out', pin: 13 } });
  const { d, io } = await connect(u, p);
  try {
    assert.match(io.firmware.name ?? '', /StandardFirmata/);
    assert.deepEqual(io.firmware.version, { major: 2, minor: 4 });
    assert.equal(io.pins.length, 20, 'an Uno: D0-D13 and A0-A5');
    assert.ok(io.pins[9]!.supportedModes.includes(4) && io.pins[9]!.supportedModes.includes(3), 'pin 9 can be SERVO and PWM');
    assert.ok(!io.pins[13]!.supportedModes.includes(3), 'pin 13 has no PWM');
    assert.equal(io.pins[14]!.analogChannel, 0, 'A0 is pin 14');
    const led = p.actuators.get('led')!;
    await d.write({ actuator: led }, true);
    await u.waitFor<boolean>('level', 13, (v) => v, 'pin 13 high');
    await d.write({ actuator: led }, false);
    await u.waitFor<boolean>('level', 13, (v) => !v, 'pin 13 low');
  } finally { await d.close(); }
});

test('inputs: a digital pin and the A0 voltage, read through johnny-five from the firmware\'s reports', async (t) => {
  const u = board(t);
  if (!u) return;
  const p = profile(u.path, { led: { type: 'digital_out', pin: 13 } }, { door: { type: 'digital', pin: 7 }, force: { type: 'analog', pin: 'A0', range: [0, 10], unit: 'N' } });
  u.setInput(7, false);
  u.setAnalog(0, 1.25);
  const { d } = await connect(u, p);
  const read = async (name: string): Promise<number | boolean> => (await d.read(p.sensors.get(name)!)).value as number | boolean;
  const until = async (name: string, ok: (v: number | boolean) => boolean, what: string): Promise<number | boolean> => {
    const end = Date.now() + 30000;
    let v = await read(name);
    while (!ok(v)) {
      if (Date.now() > end) assert.fail(`${what}: last read ${String(v)}`);
      await new Promise((r) => setTimeout(r, 20));
      v = await read(name);
    }
    return v;
  };
  try {
    assert.equal(await until('door', (v) => v === false, 'door low'), false);
    u.setInput(7, true);
    assert.equal(await until('door', (v) => v === true, 'door high'), true);
    // 1.25 V of 5 V = 256 of 1023 -> 2.5 N on a 0..10 N range.
    const low = await until('force', (v) => Math.abs(Number(v) - 2.5) < 0.05, 'A0 at 1.25 V');
    u.setAnalog(0, 3.75);
    const high = await until('force', (v) => Math.abs(Number(v) - 7.5) < 0.05, 'A0 at 3.75 V');
    assert.ok(Number(high) > Number(low));
  } finally {
    await d.close();
    u.setInput(7, true);
  }
});

test('PWM on pin 9: the measured duty follows pwm_write', async (t) => {
  const u = board(t);
  if (!u) return;
  const p = profile(u.path, { lamp: { type: 'pwm', pin: 9, range: [0, 1] } });
  const { d, io } = await connect(u, p);
  try {
    for (const duty of [0.25, 0.75]) {
      await d.write({ actuator: p.actuators.get('lamp')! }, duty);
      await sync(io as RealIo, 9);
      // Timer1 8-bit phase-correct PWM: OCR1A = round(duty * 255).
      const want = Math.round(duty * 255) / 255;
      await u.waitFor<number>('duty', 9, (v) => Math.abs(v - want) < 0.01, `duty ${want.toFixed(3)} on pin 9`);
    }
  } finally { await d.close(); }
});

/** The width of a pulse that began after every command sent so far was carried out. */
async function pulseNow(u: EmulatedUno, io: RealIo, pin: number): Promise<number> {
  await sync(io, pin);
  await u.query('clear', pin);
  // The first pulse after the clear may have started before it; the others cannot. A serial
  // interrupt (Firmata traffic) at a pulse's falling edge delays it by a few µs, as on a real Uno,
  // and it only ever lengthens a pulse: the shortest of three is the width the Servo library set.
  const pulses = await u.waitFor<number[]>('pulses', pin, (v) => v.length >= 4, `four servo pulses on pin ${pin}`);
  return Math.min(...pulses.slice(1, 4));
}

test('servo on pin 9 with pwm_range [500, 2500]: every angle 0..180 gives a pulse inside the range, monotonic in the angle (0-3 degrees once gave 2500 µs)', async (t) => {
  const u = board(t);
  if (!u) return;
  const p = profile(u.path, { arm: { type: 'servo', pin: 9, pwm_range: [500, 2500], safe_value: 'hold' } });
  const { d, io } = await connect(u, p);
  const arm = p.actuators.get('arm')!;
  const widths: number[] = [];
  try {
    for (let angle = 0; angle <= 180; angle++) {
      await d.write({ actuator: arm }, angle);
      widths.push(await pulseNow(u, io, 9));
    }
  } finally { await d.close(); }
  // The Servo library trims 2 µs for its interrupt and counts in 0.5 µs timer ticks: a few µs of slack.
  const slack = 4;
  widths.forEach((w, angle) => assert.ok(w >= 500 - slack && w <= 2500 + slack, `angle ${angle}: ${w} µs is outside 500..2500`));
  for (let a = 1; a <= 180; a++) assert.ok(widths[a]! >= widths[a - 1]!, `angle ${a}: ${widths[a]} µs < ${widths[a - 1]} µs at ${a - 1}: not monotonic`);
  assert.ok(Math.abs(widths[0]! - 500) <= slack && Math.abs(widths[90]! - 1500) <= slack && Math.abs(widths[180]! - 2500) <= slack, `0/90/180 degrees: ${widths[0]}/${widths[90]}/${widths[180]} µs`);
});

test('servo without pwm_range (johnny-five\'s 600..2400 µs) and inverted; a range the firmware cannot hold is refused by name', async (t) => {
  const u = board(t);
  if (!u) return;
  const p = profile(u.path, { claw: { type: 'servo', pin: 3, range: [0, 80], safe_value: 'hold' }, wrist: { type: 'servo', pin: 5, invert: true, pwm_range: [1000, 2000], safe_value: 'hold' } });
  const { d, io } = await connect(u, p);
  try {
    await d.write({ actuator: p.actuators.get('claw')! }, 60);
    assert.ok(Math.abs(await pulseNow(u, io, 3) - 1200) <= 4, '60 degrees on 600..2400 µs');
    await d.write({ actuator: p.actuators.get('wrist')! }, 0);
    assert.ok(Math.abs(await pulseNow(u, io, 5) - 2000) <= 4, 'inverted: 0 degrees is the top of the range');
  } finally { await d.close(); }
  const bad = profile(u.path, { elbow: { type: 'servo', pin: 6, pwm_range: [700, 1800], safe_value: 'hold' } });
  await u.ready();
  const d2 = new JohnnyFiveDriver(bad.drivers.get('uno')!, { clock: new RealClock() });
  await assert.rejects(d2.open([...bad.actuators.values()], []), /elbow: pwm_range \[700, 1800\] µs cannot be set on StandardFirmata/);
  await d2.close();
});
