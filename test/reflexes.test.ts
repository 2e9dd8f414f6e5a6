/**
 * Reflexes (DESIGN.md invariant 8) on the shipped sim board in virtual time: refusals before any
 * write, stops in time, a sensor that goes quiet, the battery floor, the sim world's collisions,
 * and the profile errors that name the rule and its field.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { LlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import type { SimFaults } from '../drivers/sim/sim.js';
import { loadSimWorld, type SimWorldSpec } from '../drivers/sim/sim-world.js';
import { loadBoardProfile, parseBoardProfile } from '../safety/board-profile.js';
import type { ReflexEvent } from '../safety/reflex-engine.js';
import { simRobot, tempDir, type SimRobot } from './helpers.js';

const api = { source: 'api' as const, runId: 'reflex-test' };

async function robot(world: SimWorldSpec, options: { board?: string; simFaults?: SimFaults; speedScale?: number } = {}): Promise<SimRobot & { events: ReflexEvent[] }> {
  const file = join(tempDir(), 'world.yaml');
  writeFileSync(file, stringify(world));
  const { speedScale, ...rest } = options;
  const r = await simRobot({ overrides: { sim: { world: file }, ...(speedScale ? { safety: { speed_scale: speedScale } } : {}) }, ...rest });
  const events: ReflexEvent[] = [];
  r.os.gate.events.on('reflex', (e) => events.push(e));
  return Object.assign(r, { events });
}

async function distance(r: SimRobot): Promise<number> {
  const res = await r.os.gate.call({ name: 'sensor_read', args: { sensor: 'distance' } }, api);
  return (res.value as { value: number }).value;
}

/** Lets virtual time run until the base is at rest (a stop ramps down after the call has failed). */
async function baseAtRest(r: SimRobot): Promise<void> {
  for (let i = 0; i < 20000; i++) {
    const base = r.os.gate.actuatorSnapshot()['base'] as { left: number; right: number };
    if (base.left === 0 && base.right === 0) return;
    await new Promise((res) => setImmediate(res));
  }
  assert.fail('the base did not come to rest');
}

const isCollision = (line: object): boolean => (line as { event?: unknown }).event === 'collision';

function rejectsReflex(e: unknown, pattern?: RegExp): true {
  assert.ok(e instanceof LlmosError, `expected an LlmosError, got ${String(e)}`);
  assert.equal(e.code, 'ERR_SAFETY_REFLEX', e.message);
  if (pattern) assert.match(e.message, pattern);
  return true;
}

test('the shipped boards carry reflexes their sensors allow', () => {
  const sim = loadBoardProfile('sim');
  const keep = sim.reflexes?.find((r) => r.id === 'keep-distance');
  assert.deepEqual(keep && { sensor: keep.sensor, below: keep.below, action: keep.action, actuators: keep.actuators, direction: keep.direction, period_ms: keep.period_ms },
    { sensor: 'distance', below: 0.3, action: 'forbid', actuators: ['base'], direction: 'forward', period_ms: 50 });
  const battery = sim.reflexes?.find((r) => r.sensor === 'battery');
  assert.equal(battery?.action, 'stop');
  assert.deepEqual(battery?.actuators, ['base', 'winch'], 'by default a rule guards every motion actuator');
  const rover = loadBoardProfile(packagePath('boards', 'pi-rover.yaml'));
  assert.ok(rover.reflexes?.some((r) => r.sensor === 'bumper' && r.level === true && r.direction === 'forward'));
  const arm = loadBoardProfile(packagePath('boards', 'arduino-arm.yaml'));
  assert.ok(arm.reflexes?.some((r) => r.sensor === 'grip_force' && r.above !== undefined && r.actuators.includes('gripper')));
});

test('reflex errors in a profile name the rule and the field', () => {
  const doc = parse(readFileSync(packagePath('boards', 'sim.yaml'), 'utf8')) as Record<string, unknown>;
  const bad = (rule: Record<string, unknown>, pattern: RegExp): void => {
    assert.throws(() => parseBoardProfile({ ...doc, reflexes: [rule] }, 'test.yaml'), (e: unknown) => {
      assert.ok(e instanceof LlmosError && e.code === 'ERR_BOARD_PROFILE', String(e));
      assert.match(e.message, pattern);
      return true;
    });
  };
  bad({ id: 'r', sensor: 'sonar', below: 1, action: 'stop' }, /\/reflexes\/0 \(rule "r"\)\/sensor: names "sonar"/);
  bad({ id: 'r', sensor: 'distance', action: 'stop' }, /rule "r".*needs exactly one condition/);
  bad({ id: 'r', sensor: 'distance', below: 1, above: 2, action: 'stop' }, /has below and above/);
  bad({ id: 'r', sensor: 'distance', below: 1, action: 'stop', actuators: ['tank'] }, /\/actuators\/0: names "tank"/);
  bad({ id: 'r', sensor: 'distance', below: 1, action: 'stop', direction: 'forward' }, /\/direction: applies to action forbid only/);
  bad({ id: 'r', sensor: 'distance', level: true, action: 'stop' }, /\/level: sensor "distance" is analog/);
  bad({ id: 'r', sensor: 'distance', below: 1, action: 'halt' }, /\/reflexes\/0\/action: must be one of "forbid", "stop", "estop"/);
  bad({ id: 'r', sensor: 'distance', below: 1, action: 'stop', period_ms: 1 }, /\/reflexes\/0\/period_ms: must be >= 5/);
  bad({ sensor: 'distance', below: 1, action: 'stop', speed: 2 }, /\/reflexes\/0\/speed: is not a known field/);
});

test('a goal towards a wall closer than the limit is refused before any write; reversing and turning are allowed', async () => {
  const r = await robot({ start: { x: 2.3 } }); // 0.2 m from the +x wall
  try {
    const before = r.writes().length;
    await assert.rejects(r.os.gate.call({ name: 'drive', args: { distance_m: 0.5 } }, api), (e) => rejectsReflex(e, /reflex "keep-distance": distance reads 0\.2 m \(below 0\.3 m.*forward motion of base is refused \(reversing and turning in place are allowed\)/));
    assert.equal(r.writes().length, before, 'nothing was written');
    assert.equal(r.events.length, 1);
    assert.deepEqual({ kind: r.events[0]?.kind, rule: r.events[0]?.rule, sensor: r.events[0]?.sensor, reading: r.events[0]?.reading, runs: r.events[0]?.runs },
      { kind: 'refused', rule: 'keep-distance', sensor: 'distance', reading: 0.2, runs: ['reflex-test'] });
    await r.os.gate.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 100 } }, api); // not guarded by keep-distance
    await r.os.gate.call({ name: 'turn', args: { degrees: 30 } }, api);
    await r.os.gate.call({ name: 'turn', args: { degrees: -30 } }, api);
    await r.os.gate.call({ name: 'drive', args: { distance_m: -0.5 } }, api);
    assert.ok(await distance(r) > 0.6, 'backed away');
    await r.os.gate.call({ name: 'drive', args: { distance_m: 0.2, speed: 0.3 } }, api);
    assert.ok(!r.writes().some(isCollision), 'no collision');
  } finally {
    await r.cleanup();
  }
});

test('a drive towards a wall is stopped in time: the call fails with ERR_SAFETY_REFLEX, no collision, the audit and the run say so', async () => {
  const r = await robot({});
  try {
    const res = await r.os.execute('drive forward 3 meters');
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_SAFETY_REFLEX', res.error?.message);
    assert.ok(!r.writes().some(isCollision), 'no collision line');
    const d = await distance(r);
    assert.ok(d >= 0.3 && d < 0.6, `came to rest before the limit: ${d} m`);
    const base = r.writes().filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.equal(base.filter((w) => w.channel === 'right').at(-1)?.value, 0);
    const stop = r.events.find((e) => e.kind === 'stopped');
    assert.ok(stop && stop.rule === 'keep-distance' && stop.actuators.includes('base'), JSON.stringify(r.events));
    await r.os.shutdown();
    const audit = readFileSync(join(r.dir, 'state', 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(audit.some((a) => a['tool'] === 'reflex' && a['decision'] === 'stop' && a['code'] === 'ERR_SAFETY_REFLEX'), 'the trip is audited');
    assert.ok(audit.some((a) => a['tool'] === 'drive' && a['decision'] === 'reject' && a['code'] === 'ERR_SAFETY_REFLEX'), 'the failed call is audited');
    const runs = readFileSync(join(r.dir, 'state', 'logs', 'sessions', 'runs.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { goal: string; ok: boolean; reflexes?: ReflexEvent[] });
    const run = runs.find((x) => x.goal === 'drive forward 3 meters');
    assert.equal(run?.ok, false);
    assert.equal(run?.reflexes?.[0]?.rule, 'keep-distance', 'the session log carries the reflex event');
    assert.ok((r.os.sentience?.snapshot().values.safety ?? 1) < 0.5, 'the sentience layer heard a safety event');
  } finally {
    await r.cleanup();
  }
});

test('the stopping distance follows the speed the gate allows: at half speed a creep closer than full speed allows is admitted and stops short', async () => {
  const full = await robot({ start: { x: 2.12 } }); // 0.38 m from the wall
  try {
    await assert.rejects(full.os.gate.call({ name: 'drive', args: { distance_m: 0.05 } }, api), (e) => rejectsReflex(e, /\+ 0\.111 m to stop at this speed/));
  } finally {
    await full.cleanup();
  }
  const half = await robot({ start: { x: 2.12 } }, { speedScale: 0.5 });
  try {
    await half.os.gate.call({ name: 'drive', args: { distance_m: 0.05 } }, api);
    const d = await distance(half);
    assert.ok(d >= 0.3 && d < 0.36, `crept closer and stayed clear: ${d}`);
    assert.equal(half.events.length, 0);
  } finally {
    await half.cleanup();
  }
});

test('a range finder that stops answering during the drive stops it', async () => {
  let quiet = false;
  const r = await robot({}, { simFaults: { blockRead: (s) => quiet && s.name === 'distance' } });
  try {
    const n = { writes: 0 };
    r.os.gate.events.on('write', () => { if (++n.writes === 20) quiet = true; });
    await assert.rejects(r.os.gate.call({ name: 'drive', args: { distance_m: 1.5 } }, api), (e) => rejectsReflex(e, /distance stopped answering \(no answer within 100 ms\)/));
    await baseAtRest(r);
    const base = r.writes().filter((w) => w.actuator === 'base' && w.channel === 'left');
    assert.equal(base.at(-1)?.value, 0, 'the base stopped');
    assert.ok(r.events.some((e) => e.kind === 'stopped' && e.reading === null && e.rule === 'keep-distance'), JSON.stringify(r.events));
  } finally {
    quiet = false;
    await r.cleanup();
  }
});

test('below the battery floor nothing drives, not even backwards; the winch is refused too', async () => {
  const r = await robot({ battery: 0.05 });
  try {
    for (const call of [{ name: 'drive', args: { distance_m: -0.5 } }, { name: 'turn', args: { degrees: 90 } }, { name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 200 } }]) {
      await assert.rejects(r.os.gate.call(call, api), (e) => rejectsReflex(e, /reflex "battery-floor": battery reads 0\.05/));
    }
    assert.equal(r.writes().filter((w) => w.actuator === 'base' || w.actuator === 'winch').length, 0);
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 100 } }, api);
    await r.os.gate.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0 } }, api);
  } finally {
    await r.cleanup();
  }
});

test('a short fast drive (a triangular profile, as when backing off) ramps down within max_rate', async () => {
  const r = await robot({});
  try {
    const res = await r.os.gate.call({ name: 'drive', args: { distance_m: -0.2, speed: 0.9 } }, api);
    assert.equal((res.value as { distance_m: number }).distance_m, -0.2);
    await r.os.gate.call({ name: 'drive', args: { distance_m: 0.2, speed: 0.9 } }, api);
    // A speed off the 0.0001 grid with a hold shorter than two ramp ticks (found by the property test).
    await r.os.gate.call({ name: 'drive', args: { distance_m: -0.2, speed: 0.861212137788061 } }, api);
  } finally {
    await r.cleanup();
  }
});

test('the sim world: without reflexes the rover hits the wall, the log says where and how fast, and it stays there', async () => {
  const doc = parse(readFileSync(packagePath('boards', 'sim.yaml'), 'utf8')) as Record<string, unknown>;
  delete doc['reflexes'];
  delete doc['$schema'];
  const board = join(tempDir(), 'no-reflexes.yaml');
  writeFileSync(board, stringify(doc));
  const r = await robot({ room: { width_m: 3, depth_m: 3 }, obstacles: [{ type: 'box', x: 0.5, y: 1, width_m: 0.4, depth_m: 0.4 }] }, { board });
  try {
    await r.os.gate.call({ name: 'drive', args: { distance_m: 2, speed: 0.6 } }, api);
    const hits = r.writes().filter(isCollision) as unknown as Array<{ pose: { x: number; y: number }; speed_mps: number; hit: string }>;
    assert.equal(hits.length, 1, 'one collision');
    assert.deepEqual([hits[0]?.pose.x, hits[0]?.pose.y, hits[0]?.hit], [1.5, 0, 'wall']);
    assert.ok((hits[0]?.speed_mps ?? 0) > 0.2, 'hit at speed');
    assert.equal(await distance(r), 0.02, 'at the wall (the range finder reads its minimum)');
    await r.os.gate.call({ name: 'drive', args: { distance_m: -1 } }, api);
    const back = await distance(r);
    assert.ok(Math.abs(back - 1) < 0.05, `backed off about 1 m: ${back}`);
    await r.os.gate.call({ name: 'turn', args: { degrees: 90 } }, api);
    const ahead = await distance(r);
    assert.ok(Math.abs(ahead - 0.8) < 0.05, `the obstacle is 0.8 m ahead after the turn: ${ahead}`);
  } finally {
    await r.cleanup();
  }
});

test('a world file is checked: errors name the file and the field', () => {
  const dir = tempDir();
  const bad = (doc: unknown, pattern: RegExp): void => {
    const file = join(dir, `w${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(doc));
    assert.throws(() => loadSimWorld(file), (e: unknown) => {
      assert.ok(e instanceof LlmosError && e.code === 'ERR_CONFIG_INVALID', String(e));
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.message, pattern);
      return true;
    });
  };
  bad({ room: { width_m: -1 } }, /\/room\/width_m: must be > 0/);
  bad({ obstacles: [{ type: 'box', x: 0, y: 0 }] }, /\/obstacles\/0\/width_m: is required/);
  bad({ obstacles: [{ type: 'circle', x: 1, y: 1, radius_m: 0.5 }], start: { x: 1, y: 1 } }, /\/start: \(1, 1\) is not free space/);
  bad({ start: { x: 9 } }, /\/start: \(9, 0\) is not free space/);
  bad({ wind: 3 }, /\/wind: is not a known field/);
});
