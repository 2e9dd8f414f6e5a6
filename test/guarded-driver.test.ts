/**
 * The GuardedDriver (safety/guarded-driver.ts) against a recording driver that implements the
 * whole Driver interface: what the wrapped driver receives is what the hardware would have seen.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { VirtualClock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import type { ActuatorSpec, ActuatorValue, Driver, SensorReading, WriteTarget } from '../drivers/types.js';
import { GuardedDriver, type GuardContext } from '../safety/guarded-driver.js';

function spec(over: Partial<ActuatorSpec> = {}): ActuatorSpec {
  return {
    name: 'winch', type: 'motor', driver: 'rec', channel: { pin: 1 }, range: [-1, 1], on_range: 'reject',
    on_rate: 'reject', safe_value: 0, stop_category: 0, ...over,
  };
}

class Recorder implements Driver {
  readonly name = 'rec';
  readonly type = 'sim' as const;
  readonly capabilities = { actuatorTypes: ['motor'] as const, sensorTypes: [] as const, simulated: true };
  readonly wrote: Array<{ actuator: string; value: ActuatorValue }> = [];
  /** When set, a write waits for it (a queueing driver) and calls the guard first. */
  gate: Promise<void> | undefined;
  fail: Error | undefined;
  async open(): Promise<void> {}
  async write(target: WriteTarget, value: ActuatorValue, guard?: () => void): Promise<void> {
    if (this.gate) await this.gate;
    guard?.();
    if (this.fail) throw this.fail;
    this.wrote.push({ actuator: target.actuator.name, value });
  }
  async read(): Promise<SensorReading> { return { value: 0 }; }
  async close(): Promise<void> {}
}

function setup(s: ActuatorSpec = spec()): { inner: Recorder; g: GuardedDriver; latch: { error: LlmosError | undefined }; errors: string[] } {
  const inner = new Recorder();
  const latch: { error: LlmosError | undefined } = { error: undefined };
  const errors: string[] = [];
  const ctx: GuardContext = {
    clock: new VirtualClock(), rampTickMs: 20, latched: () => latch.error, aliveCheck: () => undefined, inflight: new Set(),
    onWrite: () => undefined, onDriverError: ({ error }) => errors.push(error.code),
  };
  return { inner, g: new GuardedDriver(inner, [s], ctx), latch, errors };
}

test('a GuardedDriver is a Driver: it can stand wherever a driver does', () => {
  const { g } = setup();
  const d: Driver = g;
  assert.equal(d.name, 'rec');
  // The wrapped driver cannot release a servo, so neither can the wrapper.
  assert.equal(d.release, undefined);
});

test('a value outside the declared range is refused and nothing reaches the driver', async () => {
  const { inner, g } = setup();
  await assert.rejects(g.write({ actuator: spec() }, 1.5), (e: LlmosError) => e.code === 'ERR_SAFETY_RANGE');
  await assert.rejects(g.write({ actuator: spec() }, Number.NaN), (e: LlmosError) => e.code === 'ERR_SAFETY_RANGE');
  assert.deepEqual(inner.wrote, []);
});

test('a change faster than max_rate is refused (on_rate: reject)', async () => {
  const s = spec({ max_rate: 1 });
  const { inner, g } = setup(s);
  await assert.rejects(g.write({ actuator: s }, 1), (e: LlmosError) => e.code === 'ERR_SAFETY_RATE');
  assert.deepEqual(inner.wrote, []);
});

test('while latched a command is refused, but a stop still writes', async () => {
  const { inner, g, latch } = setup();
  latch.error = new LlmosError('ERR_ESTOP_ENGAGED', 'e-stop');
  await assert.rejects(g.write({ actuator: spec() }, 0.5), (e: LlmosError) => e.code === 'ERR_ESTOP_ENGAGED');
  assert.deepEqual(inner.wrote, []);
  await g.writeSafe({ actuator: spec() }, 0);
  assert.deepEqual(inner.wrote, [{ actuator: 'winch', value: 0 }]);
});

test('a latch engaged while a queued write waits stops it before the bytes go out; the channel stays certain', async () => {
  const { inner, g, latch, errors } = setup();
  let open: () => void = () => undefined;
  inner.gate = new Promise((r) => { open = r; });
  const pending = g.write({ actuator: spec() }, 0.5);
  latch.error = new LlmosError('ERR_ESTOP_ENGAGED', 'e-stop');
  open();
  await assert.rejects(pending, (e: LlmosError) => e.code === 'ERR_ESTOP_ENGAGED');
  assert.deepEqual(inner.wrote, []);
  const ch = g.channel(spec(), undefined);
  assert.equal(ch.uncertain, undefined);
  assert.equal(ch.commanded, undefined);
  assert.deepEqual(errors, [], 'a refusal is not a driver fault');
});

test('a failed driver write leaves the channel uncertain and is reported as ERR_DRIVER', async () => {
  const { inner, g, errors } = setup();
  inner.fail = new Error('bus error');
  await assert.rejects(g.write({ actuator: spec() }, 0.5), (e: LlmosError) => e.code === 'ERR_DRIVER');
  assert.equal(g.channel(spec(), undefined).uncertain, true);
  assert.deepEqual(errors, ['ERR_DRIVER']);
});
