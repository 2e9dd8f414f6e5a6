/**
 * Property-based proof of the safety invariants: for arbitrary sequences of tool calls from any
 * source (valid, out of range, malformed, unknown tools, unknown actuators), interleaved with
 * e-stops, releases, refreshes and the passage of time, the hardware (the sim driver's record)
 * never sees a value outside its declared range, a change faster than its maximum rate (other
 * than a cut to the safe value), or anything but movement toward safe values while the e-stop is
 * engaged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VirtualClock } from '../lib/clock.js';
import { SimDriver } from '../drivers/sim/sim.js';
import type { ActuatorSpec, BoardProfile } from '../drivers/types.js';
import { MemoryAudit } from '../safety/audit.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { SafetyGate, type CallSource } from '../safety/gate.js';
import { buildToolCatalog } from '../safety/tools/index.js';

type Action =
  | { kind: 'call'; source: CallSource; name: string; args: Record<string, unknown>; run: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'estop' }
  | { kind: 'release' }
  | { kind: 'refresh'; run: number };

const SOURCES: CallSource[] = ['trace', 'crystallized', 'llm', 'mqtt', 'api', 'cli'];
const ACTUATORS = ['base', 'arm', 'gripper', 'led', 'buzzer', 'winch', 'uart', 'tail', '', 'ARM'];
const TOOLS = ['digital_write', 'pwm_write', 'servo_move', 'motor_set', 'drive', 'turn', 'serial_send', 'sensor_read', 'wait', 'search_tools', 'Bash', 'fly', ''];

const number = fc.oneof(
  fc.double({ min: -400, max: 400, noNaN: true }),
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.constantFrom(0, 1, -1, 0.5, 90, 180, 1e9, -1e9, Number.NaN, Number.POSITIVE_INFINITY),
  fc.integer({ min: -5000, max: 20000 }),
);
const anyValue = fc.oneof(number, fc.boolean(), fc.string({ maxLength: 6 }), fc.constant(null), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 2 }));

/** Arguments shaped like each tool's, with values that are often in range and often not. */
/** Mostly the right actuator for the tool, sometimes any name at all. */
const act = (...right: string[]): fc.Arbitrary<string> => fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...right) }, { weight: 1, arbitrary: fc.constantFrom(...ACTUATORS) });
const inRange = (lo: number, hi: number): fc.Arbitrary<number> => fc.oneof({ weight: 3, arbitrary: fc.double({ min: lo, max: hi, noNaN: true }) }, { weight: 1, arbitrary: number });
const toolCall = fc.oneof(
  fc.record({ name: fc.constant('digital_write'), args: fc.record({ actuator: act('led'), value: fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 2)) }) }),
  fc.record({ name: fc.constant('pwm_write'), args: fc.record({ actuator: act('buzzer'), duty: inRange(0, 1) }) }),
  fc.record({ name: fc.constant('servo_move'), args: fc.record({ actuator: act('arm', 'gripper'), angle: inRange(0, 180), speed_dps: fc.double({ min: 1, max: 400, noNaN: true }) }, { requiredKeys: ['actuator', 'angle'] }) }),
  fc.record({ name: fc.constant('motor_set'), args: fc.record({ actuator: act('winch'), speed: inRange(-1, 1), duration_ms: fc.integer({ min: 1, max: 12000 }) }, { requiredKeys: ['actuator', 'speed'] }) }),
  fc.record({ name: fc.constant('drive'), args: fc.record({ distance_m: inRange(-2, 2), speed: fc.double({ min: 0.01, max: 1.5, noNaN: true }) }, { requiredKeys: ['distance_m'] }) }),
  fc.record({ name: fc.constant('turn'), args: fc.record({ degrees: inRange(-360, 360), speed: fc.double({ min: 0.01, max: 1.5, noNaN: true }) }, { requiredKeys: ['degrees'] }) }),
  fc.record({ name: fc.constant('serial_send'), args: fc.record({ actuator: act('uart'), line: fc.constantFrom('PING', 'STATUS', 'REBOOT', 'LED ON', 'PING\nX', '') }) }),
  fc.record({ name: fc.constant('sensor_read'), args: fc.record({ sensor: fc.constantFrom('distance', 'battery', 'lidar') }) }),
  fc.record({ name: fc.constant('wait'), args: fc.record({ ms: fc.integer({ min: -5, max: 900 }) }) }),
  fc.record({ name: fc.constantFrom(...TOOLS), args: fc.dictionary(fc.constantFrom('actuator', 'angle', 'speed', 'x', 'value', 'distance_m', 'degrees', 'duty'), anyValue, { maxKeys: 4 }) }),
);

export const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ call: toolCall, source: fc.constantFrom(...SOURCES), run: fc.integer({ min: 0, max: 3 }) }).map(({ call, source, run }) => ({ kind: 'call' as const, source, run, name: call.name, args: call.args as Record<string, unknown> })) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 700 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'estop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'release' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refresh' as const), run: fc.integer({ min: 0, max: 3 }) }) },
);

interface Interval { from: number; to: number }

export async function runSequence(profile: BoardProfile, actions: Action[]): Promise<{ driver: SimDriver; estops: Interval[] }> {
  const clock = new VirtualClock();
  const driver = new SimDriver({ clock });
  await driver.open([...profile.actuators.values()], [...profile.sensors.values()]);
  const gate = new SafetyGate({
    profile, drivers: new Map([['sim', driver]]), clock, catalog: buildToolCatalog(profile, { systemTools: false }),
    audit: new MemoryAudit(), deadmanMs: 300, confirmTimeoutMs: 1000,
  });
  const pending: Array<Promise<unknown>> = [];
  const estops: Interval[] = [];
  for (const a of actions) {
    switch (a.kind) {
      case 'call':
        pending.push(gate.call({ name: a.name, args: a.args }, { source: a.source, runId: `run-${a.run}` }).catch(() => undefined));
        await clock.advance(0);
        break;
      case 'advance': await clock.advance(a.ms); break;
      case 'estop': {
        const p = gate.engageEstop('property test', 'test').catch(() => undefined);
        if (!estops.length || estops.at(-1)?.to !== Infinity) estops.push({ from: clock.now(), to: Infinity });
        pending.push(p);
        await clock.advance(0);
        break;
      }
      case 'release':
        if (gate.releaseEstop('test')) (estops.at(-1) as Interval).to = clock.now();
        break;
      case 'refresh': gate.refresh(`run-${a.run}`); break;
    }
  }
  // Slow servo moves (1 deg/s) can take minutes of simulated time: run until everything settled.
  let settled = false;
  const all = Promise.all(pending).then(() => { settled = true; });
  for (let i = 0; i < 2000 && !settled; i++) await clock.advance(500);
  await all;
  return { driver, estops };
}

function checkInvariants(profile: BoardProfile, driver: SimDriver, estops: Interval[]): void {
  const last = new Map<string, { t: number; v: number }>();
  for (const w of driver.writes) {
    const spec = profile.actuators.get(w.actuator) as ActuatorSpec;
    assert.ok(spec, `write to an undeclared actuator ${w.actuator}`);
    if (spec.type === 'serial_line') {
      assert.ok((spec.allow ?? []).some((p) => new RegExp(p).test(String(w.value))), `serial line ${String(w.value)} not on the allow-list`);
      continue;
    }
    const key0 = w.channel ? `${w.actuator}.${w.channel}` : w.actuator;
    if (w.value === 'released') {
      // A servo's category-0 stop: no more pulses (it goes limp where it is), never a jump.
      assert.equal(spec.type, 'servo', `${key0}: only a servo is released`);
      last.delete(key0);
      continue;
    }
    const v = typeof w.value === 'boolean' ? (w.value ? 1 : 0) : (w.value as number);
    assert.equal(typeof v, 'number');
    assert.ok(Number.isFinite(v), `${w.actuator}: non-finite ${v}`);
    assert.ok(v >= spec.range[0] && v <= spec.range[1], `${w.actuator}${w.channel ? `.${w.channel}` : ''}: ${v} outside [${spec.range}]`);
    const key = w.channel ? `${w.actuator}.${w.channel}` : w.actuator;
    const prev = last.get(key);
    const safe = typeof spec.safe_value === 'number' ? spec.safe_value : spec.safe_value === true ? 1 : 0;
    // A cut to the safe value may be at once, except for a position servo: its stop ramps (invariant 10).
    const toSafe = v === safe && spec.type !== 'servo';
    if (prev && spec.max_rate !== undefined && !toSafe) {
      const dt = (w.t - prev.t) / 1000;
      assert.ok(Math.abs(v - prev.v) <= spec.max_rate * dt + 1e-6, `${key}: ${prev.v} -> ${v} in ${dt * 1000} ms exceeds ${spec.max_rate}/s`);
    }
    const engaged = estops.some((e) => w.t > e.from && w.t < e.to);
    if (engaged && spec.safe_value !== 'hold') {
      const before = prev?.v ?? safe;
      assert.ok(Math.abs(v - safe) <= Math.abs(before - safe) + 1e-9, `${key}: moved away from safe (${before} -> ${v}) while the e-stop was engaged`);
    }
    last.set(key, { t: w.t, v });
  }
}

test('property: no out-of-range value, no rate above the limit, no motion under e-stop (sim board)', async () => {
  const profile = loadBoardProfile('sim');
  await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
    const { driver, estops } = await runSequence(profile, actions);
    checkInvariants(profile, driver, estops);
  }), { numRuns: 400, seed: Number(process.env['FC_SEED'] ?? 20261124) });
});

test('property: clamp and reject variants of the profile keep the same invariants', async () => {
  const profile = loadBoardProfile('sim');
  for (const spec of profile.actuators.values()) {
    // ... and the other stop category for servos (category 1 ramps them; invariant 10).
    profile.actuators.set(spec.name, { ...spec, on_range: spec.type === 'servo' ? 'clamp' : spec.on_range, on_rate: spec.type === 'motor' ? 'reject' : spec.on_rate, stop_category: spec.type === 'servo' ? 1 : spec.stop_category });
  }
  await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 30 }), async (actions) => {
    const { driver, estops } = await runSequence(profile, actions);
    checkInvariants(profile, driver, estops);
  }), { numRuns: 200, seed: Number(process.env['FC_SEED'] ?? 7) });
});

test('the invariant checker itself catches violations (it cannot pass vacuously)', () => {
  const profile = loadBoardProfile('sim');
  const fake = { writes: [{ t: 0, actuator: 'arm', value: 90 }, { t: 10, actuator: 'arm', value: 150 }] } as unknown as SimDriver;
  assert.throws(() => checkInvariants(profile, fake, []), /exceeds 180\/s/);
  const out = { writes: [{ t: 0, actuator: 'arm', value: 190 }] } as unknown as SimDriver;
  assert.throws(() => checkInvariants(profile, out, []), /outside/);
  const moving = { writes: [{ t: 0, actuator: 'winch', value: 0.1 }, { t: 500, actuator: 'winch', value: 0.3 }] } as unknown as SimDriver;
  assert.throws(() => checkInvariants(profile, moving, [{ from: 100, to: Infinity }]), /while the e-stop was engaged/);
});

test('the generated sequences really exercise the hardware (writes, ramps, e-stops happen)', async () => {
  const profile = loadBoardProfile('sim');
  const samples = fc.sample(fc.array(action, { minLength: 20, maxLength: 40 }), { numRuns: 30, seed: 42 });
  let writes = 0;
  let ramps = 0;
  let estopWrites = 0;
  for (const actions of samples) {
    const { driver, estops } = await runSequence(profile, actions);
    writes += driver.writes.length;
    ramps += driver.writes.filter((w) => w.actuator === 'base' || w.actuator === 'winch').length;
    estopWrites += driver.writes.filter((w) => estops.some((e) => w.t >= e.from && w.t < e.to)).length;
  }
  assert.ok(writes > 100, `writes ${writes}`);
  assert.ok(ramps > 20, `motion writes ${ramps}`);
  assert.ok(estopWrites > 0, 'some writes happen while an e-stop stops motion');
});
