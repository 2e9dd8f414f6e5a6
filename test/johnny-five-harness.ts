/**
 * Shared by the johnny-five suites: a board profile for the mock Firmata IO, a rig with the
 * driver and what each pin saw, and an assertion on coded rejections. Not a test file itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { JohnnyFiveDriver } from '../drivers/johnny-five/johnny-five.js';
import { MockFirmataIo, type MockIoWrite } from '../drivers/johnny-five/twins/j5-mock-io.js';
import type { ActuatorSpec, BoardProfile, SensorSpec } from '../drivers/types.js';
import { parseBoardProfile } from '../safety/board-profile.js';

export function profile(driverOptions: Record<string, unknown> = {}): BoardProfile {
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

export interface Rig {
  driver: JohnnyFiveDriver;
  p: BoardProfile;
  a: (name: string) => ActuatorSpec;
  s: (name: string) => SensorSpec;
  writes: () => MockIoWrite[];
  ops: (pin: number, op?: MockIoWrite['op']) => Array<MockIoWrite['value']>;
}

export async function rig(driverOptions: Record<string, unknown> = {}): Promise<Rig> {
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

export const OUTPUT_OPS = new Set(['digitalWrite', 'analogWrite', 'servoWrite', 'servoConfig']);

export async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LlmosError, `expected an LlmosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}
