import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LlmosError } from '../lib/errors.js';
import { simRobot, type SimRobot } from './helpers.js';

async function withRobot(fn: (r: SimRobot) => Promise<void>, options: Parameters<typeof simRobot>[0] = {}): Promise<void> {
  const r = await simRobot({ shippedTraces: false, ...options });
  try { await fn(r); } finally { await r.cleanup(); }
}

const api = { source: 'api' as const, runId: 'test-run' };

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LlmosError, `expected an LlmosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test('unknown tools, unknown actuators and malformed arguments are rejected and nothing moves', async () => {
  await withRobot(async (r) => {
    const g = r.os.gate;
    await rejects(g.call({ name: 'fly', args: {} }, api), 'ERR_TOOL_UNKNOWN');
    await rejects(g.call({ name: 'servo_move', args: { actuator: 'tail', angle: 10 } }, api), 'ERR_ACTUATOR_UNKNOWN');
    await rejects(g.call({ name: 'servo_move', args: { actuator: 'led', angle: 10 } }, api), 'ERR_ACTUATOR_UNKNOWN');
    await rejects(g.call({ name: 'servo_move', args: { actuator: 'arm', angle: '90' } }, api), 'ERR_TOOL_ARGS');
    await rejects(g.call({ name: 'servo_move', args: { actuator: 'arm' } }, api), 'ERR_TOOL_ARGS');
    await rejects(g.call({ name: 'servo_move', args: { actuator: 'arm', angle: 90, extra: 1 } }, api), 'ERR_TOOL_ARGS');
    await rejects(g.call({ name: 'drive', args: { distance_m: Number.NaN } }, api), 'ERR_TOOL_ARGS');
    await rejects(g.call({ name: 'sensor_read', args: { sensor: 'lidar' } }, api), 'ERR_SENSOR_UNKNOWN');
    await rejects(g.call({ name: 'Bash', args: { command: 'ls' } }, api), 'ERR_TOOL_DISABLED');
    assert.equal(r.writes().length, 0);
  });
});

test('out-of-range values are rejected by default, clamped only where the profile says so', async () => {
  await withRobot(async (r) => {
    await rejects(r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 200 } }, api), 'ERR_SAFETY_RANGE');
    await rejects(r.os.gate.call({ name: 'pwm_write', args: { actuator: 'buzzer', duty: 1.5 } }, api), 'ERR_SAFETY_RANGE');
    await rejects(r.os.gate.call({ name: 'motor_set', args: { actuator: 'winch', speed: -2, duration_ms: 100 } }, api), 'ERR_SAFETY_RANGE');
    assert.equal(r.writes().length, 0);
  });
});

test('on_range: clamp clamps and reports the adjustment', async () => {
  const dir = (await import('./helpers.js')).tempDir();
  const { writeFileSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const board = readFileSync((await import('./helpers.js')).shippedBoard(), 'utf8').replace('    safe_value: 0\n  winch:', '    safe_value: 0\n    on_range: clamp\n  winch:').replace('$schema: ../schemas/board.schema.json\n', '');
  writeFileSync(join(dir, 'board.yaml'), board);
  await withRobot(async (r) => {
    const res = await r.os.gate.call({ name: 'pwm_write', args: { actuator: 'buzzer', duty: 3 } }, api);
    assert.deepEqual(res.adjusted, ['buzzer.duty clamped from 3 to 1']);
    assert.ok(r.writes().every((w) => w.actuator !== 'buzzer' || (w.value as number) <= 1));
  }, { board: join(dir, 'board.yaml') });
});

test('servo moves ramp at no more than max_rate between consecutive writes', async () => {
  await withRobot(async (r) => {
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 170 } }, api);
    const arm = r.writes().filter((w) => w.actuator === 'arm');
    assert.ok(arm.length > 5, 'ramped in several steps');
    assert.equal(arm.at(-1)?.value, 170);
    let prev = { t: 0, value: 90 };
    for (const w of arm) {
      const rate = Math.abs((w.value as number) - prev.value) / Math.max(1e-9, (w.t - prev.t) / 1000);
      if (prev.t > 0) assert.ok(rate <= 180 + 1e-6, `rate ${rate} deg/s`);
      prev = { t: w.t, value: w.value as number };
    }
  });
});

test('interlocks: the base cannot drive while the winch runs, nor the winch start while the base drives', async () => {
  await withRobot(async (r) => {
    const g = r.os.gate;
    const winch = g.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 1000 } }, { ...api, runId: 'w' });
    await r.clock.advance(300);
    await rejects(g.call({ name: 'drive', args: { distance_m: 0.5 } }, api), 'ERR_SAFETY_INTERLOCK');
    await r.clock.advance(2000);
    await winch;
    const drive = g.call({ name: 'drive', args: { distance_m: 1 } }, { ...api, runId: 'd' });
    await r.clock.advance(500);
    await rejects(g.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 100 } }, api), 'ERR_SAFETY_INTERLOCK');
    await r.clock.advance(10000);
    await drive;
  }, { manualClock: true });
});

test('deadman: an open-ended motion stops within its window unless its owner refreshes it', async () => {
  await withRobot(async (r) => {
    const g = r.os.gate;
    const start = g.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0.5 } }, { ...api, runId: 'owner' });
    await r.clock.advance(200);
    await start;
    g.refresh('owner');
    await r.clock.advance(400);
    assert.notEqual(lastValue(r, 'winch'), 0, 'refreshed: still running at 600 ms');
    const t0 = r.clock.now();
    await r.clock.advance(600);
    const stop = r.writes().filter((w) => w.actuator === 'winch').at(-1);
    assert.equal(stop?.value, 0, 'stopped after the window');
    assert.ok((stop?.t ?? 0) <= t0 + 500 + 1, `stopped at ${stop?.t}, window ended at ${t0 + 500}`);
  }, { manualClock: true });
});

test('maximum continuous run time: a motion longer than max_run_ms is refused up front', async () => {
  await withRobot(async (r) => {
    await rejects(r.os.gate.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 9000 } }, api), 'ERR_SAFETY_RUNTIME');
    await rejects(r.os.gate.call({ name: 'drive', args: { distance_m: 9, speed: 0.1 } }, api), 'ERR_SAFETY_RUNTIME');
    assert.equal(r.writes().length, 0);
  });
});

test('e-stop is latched: it stops motion at once, rejects motion while engaged, and only an explicit release clears it', async () => {
  await withRobot(async (r) => {
    const g = r.os.gate;
    const drive = g.call({ name: 'drive', args: { distance_m: 2 } }, { ...api, runId: 'd' }).catch((e: unknown) => e);
    await r.clock.advance(1000);
    assert.ok(Math.abs(lastValue(r, 'base') as number) > 0, 'moving before the e-stop');
    const tStop = r.clock.now();
    await drain(r, r.os.estop('test', 'api'));
    const err = await drive;
    assert.ok(err instanceof LlmosError && err.code === 'ERR_ESTOP_ENGAGED');
    const after = r.writes().filter((w) => w.t >= tStop);
    assert.ok(after.every((w) => w.actuator !== 'base' || Math.abs(w.value as number) <= Math.abs(lastBefore(r, 'base', tStop))), 'only decelerating after the e-stop');
    assert.equal(lastValue(r, 'base'), 0);
    await rejects(g.call({ name: 'servo_move', args: { actuator: 'arm', angle: 100 } }, api), 'ERR_ESTOP_ENGAGED');
    await r.clock.advance(5000);
    await rejects(g.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, api), 'ERR_ESTOP_ENGAGED');
    const reading = await g.call({ name: 'sensor_read', args: { sensor: 'battery' } }, api);
    assert.ok(reading.value, 'sensors still readable');
    assert.equal(r.os.releaseEstop('api'), true);
    assert.equal(r.os.releaseEstop('api'), false, 'release is idempotent');
    await drain(r, g.call({ name: 'servo_move', args: { actuator: 'arm', angle: 100 } }, api));
    assert.equal(lastValue(r, 'arm'), 100);
  }, { manualClock: true });
});

test('serial lines must match the allow-list; replies come back', async () => {
  await withRobot(async (r) => {
    await rejects(r.os.gate.call({ name: 'serial_send', args: { actuator: 'uart', line: 'REBOOT' } }, api), 'ERR_SAFETY_SERIAL_LINE');
    await rejects(r.os.gate.call({ name: 'serial_send', args: { actuator: 'uart', line: 'PING\nREBOOT' } }, api), 'ERR_SAFETY_SERIAL_LINE');
    const ok = await r.os.gate.call({ name: 'serial_send', args: { actuator: 'uart', line: 'PING' } }, api);
    assert.deepEqual(ok.value, { actuator: 'uart', line: 'PING', reply: 'PONG' });
    assert.deepEqual(r.writes().map((w) => w.value), ['PING']);
  });
});

test('per-actuator command rate limit', async () => {
  await withRobot(async (r) => {
    const g = r.os.gate;
    let rejected = 0;
    for (let i = 0; i < 60; i++) {
      try { await drain(r, g.call({ name: 'digital_write', args: { actuator: 'led', value: i % 2 === 0 } }, api), 1); } catch (e) {
        if (e instanceof LlmosError && e.code === 'ERR_SAFETY_RATE_LIMIT') rejected++; else throw e;
      }
    }
    assert.equal(rejected, 10, 'led allows 50 commands per second');
  }, { manualClock: true });
});

test('hooks: BLOCK refuses, ASK waits for a confirmation and a timeout means no', async () => {
  await withRobot(async (r) => {
    const g = r.os.gate;
    const off = g.addHook('pre_tool_use', (i) => (i.tool === 'pwm_write' ? { decision: 'BLOCK', reason: 'quiet hours' } : 'ALLOW'));
    await rejects(g.call({ name: 'pwm_write', args: { actuator: 'buzzer', duty: 0.5 } }, api), 'ERR_HOOK_BLOCKED');
    off();
    g.addHook('pre_tool_use', (i) => (i.tool === 'digital_write' ? 'ASK' : undefined));
    const seen: string[] = [];
    g.confirmations.events.on('request', (req) => { seen.push(req.id); if (seen.length === 1) g.confirmations.answer(req.id, true); });
    await g.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, api);
    await rejects(g.call({ name: 'digital_write', args: { actuator: 'led', value: false } }, api), 'ERR_CONFIRM_DENIED');
    assert.deepEqual(r.writes().map((w) => w.value), [true]);
  }, { manualClock: true, overrides: { safety: { confirm_timeout_ms: 100 } } });
});

test('every gate decision is in the audit log', async () => {
  await withRobot(async (r) => {
    await r.os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, api);
    await r.os.gate.call({ name: 'digital_write', args: { actuator: 'nope', value: true } }, api).catch(() => undefined);
    await r.os.shutdown();
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const lines = readFileSync(join(r.dir, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const calls = lines.filter((l) => l['tool'] === 'digital_write');
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.map((c) => c['decision']), ['allow', 'reject']);
    assert.equal(calls[1]?.['code'], 'ERR_ACTUATOR_UNKNOWN');
    for (const c of calls) for (const k of ['ts', 'source', 'run', 'tool', 'args', 'decision']) assert.ok(k in c, k);
  });
});

/** Advances a manual clock until the promise settles (at most `maxMs`). */
export async function drain<T>(r: SimRobot, p: Promise<T>, maxMs = 60000): Promise<T> {
  let done = false;
  const wrapped = p.finally(() => { done = true; });
  wrapped.catch(() => undefined); // observed below; do not report it as unhandled meanwhile
  for (let t = 0; t < maxMs && !done; t += 10) await r.clock.advance(10);
  return wrapped;
}

function lastValue(r: SimRobot, actuator: string): number | boolean | string | undefined {
  return r.writes().filter((w) => w.actuator === actuator).at(-1)?.value;
}

function lastBefore(r: SimRobot, actuator: string, t: number): number {
  return (r.writes().filter((w) => w.actuator === actuator && w.t < t).at(-1)?.value as number | undefined) ?? 0;
}

test('a stop that lands between a drive base\'s two wheel writes is never undone by the older command', async () => {
  let robot: SimRobot | undefined;
  let fired = false;
  await withRobot(async (r) => {
    robot = r;
    // The first time the left wheel gets a forward command, stop everything (no latch) before
    // the right wheel's write of the same ramp step, as a deadman or a remote stop could.
    const run = r.os.gate.call({ name: 'drive', args: { distance_m: 1 } }, api).catch((e: unknown) => e);
    const err = await run;
    assert.ok(fired, 'the stop was triggered mid-step');
    assert.ok(err instanceof LlmosError && err.code === 'ERR_ABORTED', String(err));
    const base = r.writes().filter((w) => w.actuator === 'base');
    const last = (side: string): unknown => base.filter((w) => w.channel === side).at(-1)?.value;
    assert.equal(last('left'), 0, 'the left wheel, commanded just before the stop, is stopped again');
    assert.ok(last('right') === undefined || last('right') === 0, `the right wheel stays stopped (last ${String(last('right'))})`);
  }, {
    simFaults: {
      onWrite: (target, value) => {
        if (!fired && target.actuator.name === 'base' && target.channel === 'left' && typeof value === 'number' && value > 0) {
          fired = true;
          queueMicrotask(() => { void robot?.os.gate.safeState('stop between wheels', 0); });
        }
        return undefined;
      },
    },
  });
});

test('a stop whose write fails latches the e-stop, and the e-stop\'s pass writes the wheel the failed stop could not', async () => {
  let failNext = false;
  await withRobot(async (r) => {
    const run = r.os.gate.call({ name: 'drive', args: { distance_m: 2 } }, api).catch((e: unknown) => e);
    for (let i = 0; i < 200 && !r.writes().some((w) => w.actuator === 'base' && (w.value as number) > 0.3); i++) await r.clock.advance(20);
    failNext = true;
    await r.os.gate.safeState('operator stop', 0).catch(() => undefined);
    await run;
    for (let i = 0; i < 50 && !r.os.gate.estopEngaged; i++) await r.clock.advance(10);
    assert.equal(r.os.gate.estopEngaged, true, 'the failed stop latched the e-stop');
    assert.match(r.os.gate.estopStatus.reason ?? '', /stopping base failed/);
    for (let i = 0; i < 50; i++) await r.clock.advance(10);
    const base = r.writes().filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0, 'left wheel at rest after the retry');
    assert.equal(base.filter((w) => w.channel === 'right').at(-1)?.value, 0, 'right wheel at rest (tried although the left failed)');
  }, {
    manualClock: true,
    simFaults: {
      onWrite: (target, value) => {
        if (failNext && target.actuator.name === 'base' && target.channel === 'left' && value === 0) {
          failNext = false;
          return new Error('bus error');
        }
        return undefined;
      },
    },
  });
});

test('a call past the e-stop check (its hook still deciding) cannot take the outputs from the e-stop\'s stop', async () => {
  await withRobot(async (r) => {
    let hold = false;
    let release: () => void = () => undefined;
    const gateOpen = new Promise<void>((res) => { release = res; });
    r.os.gate.addHook('pre_tool_use', async (i): Promise<'ALLOW'> => { if (hold && i.tool === 'turn') await gateOpen; return 'ALLOW'; });
    const moving = r.os.gate.call({ name: 'drive', args: { distance_m: 2 } }, api).catch((e: unknown) => e);
    for (let i = 0; i < 200 && !r.writes().some((w) => w.actuator === 'base' && (w.value as number) > 0.3); i++) await r.clock.advance(20);
    hold = true;
    const late = r.os.gate.call({ name: 'turn', args: { degrees: 90 } }, { source: 'api', runId: 'late' }).catch((e: unknown) => e);
    await Promise.resolve();
    // The e-stop (category 0) and the late call's hook resolve in the same turn of the loop.
    const stopping = r.os.gate.engageEstop('test', 'api', 0);
    release();
    await stopping;
    const err = await late;
    assert.ok(err instanceof LlmosError && err.code === 'ERR_ESTOP_ENGAGED', String(err));
    await moving;
    const base = r.writes().filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.equal(base.filter((w) => w.channel === 'right').at(-1)?.value, 0, 'both wheels stopped');
  }, { manualClock: true });
});

test('every e-stop engage is a new engagement: a release for an earlier one names the wrong e-stop', async () => {
  await withRobot(async (r) => {
    await r.os.estop('first', 'mqtt');
    const first = r.os.gate.estopStatus.engagement;
    await r.os.estop('second: the button', 'button');
    assert.equal(r.os.gate.estopStatus.engagement, first + 1);
    assert.match(r.os.gate.estopStatus.reason ?? '', /second/);
  });
});
