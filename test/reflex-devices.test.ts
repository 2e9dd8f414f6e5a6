/**
 * Reflex rules on real driver code: an analog range sensor on a Firmata board's A0 through
 * johnny-five's own Sensor code (the mock Firmata IO), and a range reported by a serial device
 * through serialport's stream code (the simulated twin on binding-mock). Each stops a drive whose
 * sensor crosses its limit, and refuses the next forward command before anything is written; the
 * serial one also on a real pseudo-terminal (socat) whose cable is pulled mid-drive.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RealClock, type Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { JohnnyFiveDriver } from '../drivers/johnny-five/johnny-five.js';
import { SerialDriver } from '../drivers/serial/serial.js';
import { SimDriver } from '../drivers/sim/sim.js';
import { SerialTwin } from '../drivers/serial/twins/serial-device.js';
import { MockFirmataIo } from '../drivers/johnny-five/twins/j5-mock-io.js';
import type { BoardProfile, Driver } from '../drivers/types.js';
import { MemoryAudit } from '../safety/audit.js';
import { parseBoardProfile } from '../safety/board-profile.js';
import { SafetyGate } from '../safety/gate.js';
import type { ReflexEvent } from '../safety/reflex-engine.js';
import { buildToolCatalog } from '../safety/tools/index.js';
import { simRobot, simWorldFile, tempDir } from './helpers.js';

const api = { source: 'api' as const, runId: 'dev' };

function gateFor(profile: BoardProfile, drivers: Map<string, Driver>, clock: Clock): { gate: SafetyGate; events: ReflexEvent[] } {
  const gate = new SafetyGate({ profile, drivers, clock, catalog: buildToolCatalog(profile, { systemTools: false }), audit: new MemoryAudit(), deadmanMs: 500 });
  const events: ReflexEvent[] = [];
  gate.events.on('reflex', (e) => events.push(e));
  return { gate, events };
}

function reflexError(pattern: RegExp): (e: unknown) => true {
  return (e) => {
    assert.ok(e instanceof LlmosError, String(e));
    assert.equal(e.code, 'ERR_SAFETY_REFLEX', e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

async function until(pred: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

test('a Firmata analog range sensor on A0 (johnny-five, mock IO) stops the drive and refuses the next forward command', async () => {
  const profile = parseBoardProfile({
    name: 'j5-rover',
    drivers: { uno: { type: 'johnny-five', io: 'mock', mock_analog: { 0: 1023 } } },
    actuators: {
      base: {
        type: 'differential_drive', left: { pin: 10, dir_pin: 8 }, right: { pin: 11, dir_pin: 12, invert: true },
        calibration: { max_speed_mps: 0.5, max_turn_dps: 120 },
      },
    },
    sensors: { ir: { type: 'analog', pin: 'A0', range: [0, 2], unit: 'm', description: 'IR range finder, 0..2 m' } },
    // johnny-five reports samples on its own (real) timers: real time, and a timeout a busy machine meets.
    reflexes: [{ id: 'ir-range', sensor: 'ir', below: 0.3, action: 'forbid', actuators: ['base'], direction: 'forward', timeout_ms: 2000 }],
  }, 'test:j5-rover');
  const clock = new RealClock();
  const driver = new JohnnyFiveDriver(profile.drivers.get('uno')!, { clock, twin: (o) => new MockFirmataIo(o) });
  await driver.open([...profile.actuators.values()], [...profile.sensors.values()]);
  const io = driver.mockIo!;
  const { gate, events } = gateFor(profile, new Map([['uno', driver]]), clock);
  try {
    // Something appears 0.2 m ahead once the base cruises (raw 102 of 1023 on a 0..2 m scale).
    gate.events.on('write', ({ actuator, value }) => { if (actuator === 'base' && typeof value === 'number' && value >= 0.9) io.setAnalog(0, 102); });
    await assert.rejects(gate.call({ name: 'drive', args: { distance_m: 2, speed: 1 } }, api), reflexError(/reflex "ir-range": ir reads 0\.199 m/));
    await until(() => io.pinValue(10) === 0 && io.pinValue(11) === 0, 'both PWM pins at 0');
    assert.equal(events[0]?.kind, 'stopped');
    const before = io.writes.length;
    await assert.rejects(gate.call({ name: 'drive', args: { distance_m: 0.5 } }, api), reflexError(/forward motion of base is refused/));
    assert.equal(io.writes.length, before, 'refused before any pin was written');
    await gate.call({ name: 'drive', args: { distance_m: -0.3 } }, api);
    assert.ok(io.writes.length > before, 'backing away moves the base');
  } finally {
    await gate.close();
  }
});

test('a range reported by a serial device (serialport over the mock binding) stops the drive; a device that goes quiet stops it too', async () => {
  const path = `/dev/ttyREFLEX${process.pid}`;
  let range = 1.5;
  let quiet = false;
  const twin = new SerialTwin([path], { reply: (line) => (line === 'RANGE' ? (quiet ? undefined : `RANGE ${range}`) : 'OK') });
  const profile = parseBoardProfile({
    name: 'serial-rover',
    drivers: { sim: { type: 'sim' }, ctl: { type: 'serial', port: path, reply_timeout_ms: 1000 } },
    actuators: {
      base: { type: 'differential_drive', driver: 'sim', calibration: { max_speed_mps: 0.5, max_turn_dps: 120 } },
      uart: { type: 'serial_line', driver: 'ctl', allow: ['^RANGE$'] },
    },
    sensors: { sonar: { type: 'serial_query', driver: 'ctl', unit: 'm', query: { actuator: 'uart', line: 'RANGE', pattern: '^RANGE ([0-9.]+)$' } } },
    // A generous timeout: this machine may be busy; a quiet device is still caught within it.
    reflexes: [{ id: 'sonar', sensor: 'sonar', below: 0.3, action: 'forbid', actuators: ['base'], direction: 'forward', period_ms: 20, timeout_ms: 1500 }],
  }, 'test:serial-rover');
  const clock = new RealClock();
  const sim = new SimDriver({ clock, world: { room: { width_m: 20, depth_m: 20 } } });
  const serial = new SerialDriver({ name: 'ctl', options: { port: path, reply_timeout_ms: 1000 }, binding: twin.binding });
  await sim.open([profile.actuators.get('base')!], []);
  await serial.open([profile.actuators.get('uart')!], [profile.sensors.get('sonar')!]);
  const { gate, events } = gateFor(profile, new Map<string, Driver>([['sim', sim], ['ctl', serial]]), clock);
  const leftAtRest = (): boolean => (gate.actuatorSnapshot()['base'] as { left: number }).left === 0;
  try {
    let phase: 'close' | 'quiet' = 'close';
    // Once the base cruises: first something appears close ahead; on the second drive the device goes quiet.
    gate.events.on('write', ({ actuator, value }) => {
      if (actuator !== 'base' || typeof value !== 'number' || value < 0.9) return;
      if (phase === 'close') range = 0.25; else quiet = true;
    });
    await assert.rejects(gate.call({ name: 'drive', args: { distance_m: 1, speed: 1 } }, api), reflexError(/reflex "sonar": sonar reads 0\.25 m/));
    assert.ok(twin.received.filter((l) => l === 'RANGE').length >= 2, 'sampled over the serial line while driving');
    await until(leftAtRest, 'the base at rest');
    await assert.rejects(gate.call({ name: 'drive', args: { distance_m: 0.5 } }, api), reflexError(/forward motion of base is refused/));
    // Clear ahead again, then the device goes quiet mid-drive. A sensor_read queues behind any
    // reflex read still on the line, so once it answers 2 and a period has passed, the gate reads fresh.
    range = 2;
    phase = 'quiet';
    await gate.call({ name: 'sensor_read', args: { sensor: 'sonar' } }, api);
    const cleared = clock.now();
    await until(() => clock.now() - cleared > 25, 'one sample period');
    await assert.rejects(gate.call({ name: 'drive', args: { distance_m: 1, speed: 1 } }, api), reflexError(/sonar stopped answering/));
    await until(leftAtRest, 'the base at rest after the device went quiet');
    assert.deepEqual(events.map((e) => e.kind), ['stopped', 'refused', 'stopped']);
  } finally {
    await gate.close();
  }
});

// A real pseudo-terminal pair (socat): serialport's native binding on one end, the test playing
// a range-finder controller on the other. Killing socat is pulling its USB cable.
const socat = spawnSync('which', ['socat']).status === 0;

test('a serial range finder on a real pty (socat, native binding) stops the drive; pulling its cable mid-drive stops it too', { skip: !socat && process.env['LLMOS_CI'] !== '1' ? 'needs socat (apt-get install socat)' : false }, async () => {
  assert.ok(socat, 'socat must be installed in CI');
  const dir = tempDir();
  const dev = join(dir, 'ttyDEV');
  const ctl = join(dir, 'ttyCTL');
  const pty = spawn('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${ctl}`], { stdio: 'ignore' });
  try {
    await until(() => existsSync(dev) && existsSync(ctl), 'the pty pair');
    const { SerialPort } = await import('serialport');
    const { ReadlineParser } = await import('@serialport/parser-readline');
    let range = 2;
    let asked = 0;
    const far = new SerialPort({ path: ctl, baudRate: 115200, autoOpen: false });
    far.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (l: string) => { if (l === 'RANGE') { asked++; far.write(`RANGE ${range}\n`); } });
    far.on('error', () => undefined);
    await new Promise<void>((res, rej) => far.open((e) => (e ? rej(e) : res())));
    const board = join(dir, 'board.yaml');
    writeFileSync(board, `name: pty-rover
drivers:
  sim: { type: sim }
  ctl: { type: serial, port: ${dev}, reply_timeout_ms: 1000 }
actuators:
  base: { type: differential_drive, driver: sim, calibration: { max_speed_mps: 0.5, max_turn_dps: 120 } }
  uart: { type: serial_line, driver: ctl, allow: ['^RANGE$'] }
sensors:
  sonar: { type: serial_query, driver: ctl, unit: m, query: { actuator: uart, line: RANGE, pattern: '^RANGE ([0-9.]+)$' } }
reflexes:
  - { id: sonar, sensor: sonar, below: 0.3, action: forbid, actuators: [base], direction: forward, period_ms: 20, timeout_ms: 1500 }
`);
    const r = await simRobot({ board, realTime: true, shippedTraces: false, overrides: { sim: { world: simWorldFile({ room: { width_m: 50, depth_m: 50 } }) } } });
    const api = { source: 'api' as const, runId: 'pty' };
    const moving = (): boolean => (r.os.gate.actuatorSnapshot()['base'] as { left: number }).left > 0.1;
    const atRest = (): boolean => (r.os.gate.actuatorSnapshot()['base'] as { left: number }).left === 0;
    try {
      const first = r.os.gate.call({ name: 'drive', args: { distance_m: 2, speed: 1 } }, api).then(() => undefined, (e: unknown) => e);
      await until(moving, 'the base moving');
      const sampled = asked;
      range = 0.25;
      const err = await first;
      assert.ok(err instanceof LlmosError && err.code === 'ERR_SAFETY_REFLEX' && /sonar reads 0\.25 m/.test(err.message), String(err));
      assert.ok(asked > sampled, 'sampled over the pty while driving');
      await until(atRest, 'the base at rest');
      range = 2;
      // A read queued behind any reflex read still on the line: after it and a period, the gate reads fresh.
      await r.os.gate.call({ name: 'sensor_read', args: { sensor: 'sonar' } }, api);
      const cleared = Date.now();
      await until(() => Date.now() - cleared > 25, 'one sample period');
      const second = r.os.gate.call({ name: 'drive', args: { distance_m: 2, speed: 1 } }, api).then(() => undefined, (e: unknown) => e);
      await until(moving, 'the base moving again');
      pty.kill('SIGKILL');
      const lost = await second;
      assert.ok(lost instanceof LlmosError && lost.code === 'ERR_SAFETY_REFLEX' && /sonar stopped answering/.test(lost.message), String(lost));
      await until(atRest, 'the base at rest after the cable was pulled');
    } finally {
      far.close(() => undefined);
      await r.cleanup();
    }
  } finally {
    pty.kill('SIGKILL');
  }
});
