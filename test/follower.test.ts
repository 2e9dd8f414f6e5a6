import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { goalSignature } from '../runtime/matcher/analyze.js';
import { TraceStore } from '../runtime/traces/store.js';
import { traceStatsFile } from '../runtime/traces/stats.js';
import { simRobot, simWorldFile, tempDir } from './helpers.js';

test('a shipped goal runs as FOLLOWER with zero LLM calls and the sim log shows the writes', async () => {
  const r = await simRobot();
  try {
    const result = await r.os.execute('drive forward 1 meter');
    assert.equal(result.mode, 'FOLLOWER');
    assert.equal(result.ok, true, JSON.stringify(result.error));
    assert.equal(result.llm_calls, 0);
    assert.match(result.trace ?? '', /^[0-9a-f]{16}$/);
    const writes = r.writes().filter((w) => w.actuator === 'base');
    assert.ok(writes.length > 10, 'the base was ramped up and down');
    assert.ok(writes.some((w) => w.channel === 'left' && typeof w.value === 'number' && w.value > 0.5));
    const last = writes.filter((w) => w.channel === 'left').at(-1);
    assert.equal(last?.value, 0, 'the base ends stopped');
  } finally {
    await r.cleanup();
  }
});

test('numbers in the goal bind as parameters: 2.5 meters drives 2.5 m, 50 cm drives 0.5 m', async () => {
  const r = await simRobot();
  try {
    const a = await r.os.execute('Drive forward 2.5 meters');
    assert.equal(a.mode, 'FOLLOWER');
    assert.deepEqual(a.params, { distance: 2.5 });
    assert.equal(a.steps[0]?.args['distance_m'], 2.5);
    const b = await r.os.execute('move ahead 50 cm');
    assert.equal(b.mode, 'FOLLOWER');
    assert.equal(b.steps[0]?.args['distance_m'], 0.5);
    const c = await r.os.execute('turn right 45 degrees');
    assert.equal(c.mode, 'FOLLOWER');
    assert.equal(c.steps[0]?.args['degrees'], -45, 'clockwise is negative');
  } finally {
    await r.cleanup();
  }
});

test('a bound parameter outside the trace\'s declared range is refused, and nothing moves', async () => {
  const r = await simRobot();
  try {
    const res = await r.os.execute('drive forward 9 meters');
    assert.equal(res.mode, 'REFUSED');
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_NO_MATCH');
    assert.match(res.error?.message ?? '', /maximum 5/);
    assert.equal(r.writes().length, 0);
  } finally {
    await r.cleanup();
  }
});

test('a goal with no fitting trace is REFUSED with the nearest traces and their scores', async () => {
  const r = await simRobot();
  try {
    const res = await r.os.execute('turn left');
    assert.equal(res.mode, 'REFUSED');
    assert.equal(res.ok, false);
    assert.equal(res.llm_calls, 0);
    assert.equal(res.trace, null);
    assert.ok((res.nearest?.length ?? 0) > 0);
    assert.match(res.error?.message ?? '', /nearest: "turn left 90 degrees"/);
    assert.equal(r.writes().length, 0, 'nothing moved');
  } finally {
    await r.cleanup();
  }
});

test('critical words never replay each other: left is not right, open is not close, on is not off', async () => {
  const r = await simRobot();
  try {
    for (const [goal, expectedGoal] of [['turn right 90 degrees', 'turn right 90 degrees'], ['close the gripper', 'close the gripper'], ['switch the light off', 'turn off the led']]) {
      const res = await r.os.execute(goal as string, { explain: true });
      assert.equal(res.mode, 'FOLLOWER', goal);
      assert.equal(res.goal_text, expectedGoal);
    }
    const neg = await r.os.execute('do not open the gripper', { explain: true });
    assert.equal(neg.mode, 'REFUSED');
  } finally {
    await r.cleanup();
  }
});

test('ORCHESTRATOR: "X then Y" runs each part as FOLLOWER, in order', async () => {
  const r = await simRobot();
  try {
    const res = await r.os.execute('open the gripper, then raise the arm and then beep');
    assert.equal(res.mode, 'ORCHESTRATOR');
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.deepEqual(res.parts?.map((p) => p.goal_text), ['open the gripper', 'raise the arm', 'beep']);
    assert.ok(res.parts?.every((p) => p.mode === 'FOLLOWER'));
    const order = r.writes().map((w) => w.actuator).filter((a, i, all) => all[i - 1] !== a);
    assert.deepEqual(order, ['gripper', 'arm', 'buzzer']);
  } finally {
    await r.cleanup();
  }
});

test('ORCHESTRATOR refuses the whole goal when one part does not qualify, before anything moves', async () => {
  const r = await simRobot();
  try {
    const res = await r.os.execute('open the gripper then fly to the moon');
    assert.equal(res.mode, 'REFUSED');
    assert.match(res.error?.message ?? '', /fly to the moon/);
    assert.equal(r.writes().length, 0);
  } finally {
    await r.cleanup();
  }
});

test('usage_count, success_rate and last_used are updated after every run, in the state directory; the trace file is unchanged', async () => {
  // A long room: 3 m of driving from the centre of the default 5 m room would meet the wall's reflex.
  const r = await simRobot({ overrides: { sim: { world: simWorldFile({ room: { width_m: 20, depth_m: 5 } }) } } });
  try {
    const file = join(r.dir, 'traces', 'drive-forward.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/usage_count: \d+/, 'usage_count: 0').replace(/\n(success_count|last_used):.*/g, ''));
    const text = readFileSync(file, 'utf8');
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    await r.os.execute('drive forward 1 meter');
    await r.os.execute('drive forward 2 meters');
    assert.equal(readFileSync(file, 'utf8'), text, 'the trace file is data: never rewritten to record a run');
    assert.match(text, /^# "drive forward 2\.5 meters" binds/m, 'comment kept');
    assert.match(text, /distance: \{ kind: length, unit: m, minimum: 0, maximum: 5, description: how far to drive \}/, 'layout of untouched fields kept');
    const sig = goalSignature('drive forward 1 meter');
    const live = r.os.traces.get(sig)?.trace;
    assert.equal(live?.usage_count, 2);
    assert.equal(live?.success_count, 2);
    assert.equal(live?.success_rate, 1);
    assert.match(String(live?.last_used), /^20\d\d-/);
    // A new process on the same state directory sees the same counts (merged on load).
    const fresh = new TraceStore({ dir: join(r.dir, 'traces'), statsFile: traceStatsFile(r.os.config.paths.state) });
    fresh.load();
    assert.equal(fresh.get(sig)?.trace.usage_count, 2);
    assert.equal(fresh.get(sig)?.trace.success_count, 2);
    assert.match(String(fresh.get(sig)?.trace.last_used), /^20\d\d-/);
  } finally {
    await r.cleanup();
  }
});

test('per-step checks: a failing check fails the run, and on_error retry / skip behave', async () => {
  const r = await simRobot({ shippedTraces: false });
  try {
    const dir = join(r.dir, 'traces');
    writeFileSync(join(dir, 'check-fail.yaml'), 'goal_text: measure the gap\ntool_calls:\n  - name: sensor_read\n    args: { sensor: distance }\n    check: { min: 10 }\n');
    writeFileSync(join(dir, 'skip.yaml'), 'goal_text: try the controller then blink\ntool_calls:\n  - name: serial_send\n    args: { actuator: uart, line: STATUS }\n    check: { matches: "^NEVER$" }\n    on_error: skip\n  - { name: digital_write, args: { actuator: led, value: true } }\n');
    writeFileSync(join(dir, 'retry.yaml'), 'goal_text: ping twice\ntool_calls:\n  - name: serial_send\n    args: { actuator: uart, line: VERSION }\n    check: { matches: "^NEVER$" }\n    on_error: { action: retry, retry_count: 2 }\n');
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    const fail = await r.os.execute('measure the gap');
    assert.equal(fail.ok, false);
    assert.equal(fail.error?.code, 'ERR_CHECK_FAILED');
    const skip = await r.os.execute('try the controller then blink');
    assert.equal(skip.ok, true);
    assert.equal(skip.steps[0]?.skipped, true);
    assert.equal(skip.steps[1]?.ok, true);
    const retry = await r.os.execute('ping twice');
    assert.equal(retry.ok, false);
    assert.equal(retry.steps[0]?.attempts, 3);
    assert.equal(r.writes().filter((w) => w.value === 'VERSION').length, 3);
  } finally {
    await r.cleanup();
  }
});

test('the upstream edge format loads and runs (serial STATUS with content_contains)', async () => {
  const r = await simRobot();
  try {
    const res = await r.os.execute('ask the controller for its status');
    assert.equal(res.mode, 'FOLLOWER');
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.deepEqual(res.steps[0]?.value, { actuator: 'uart', line: 'STATUS', reply: 'OK READY' });
  } finally {
    await r.cleanup();
  }
});

test('a trace that needs an actuator this board lacks is refused before anything moves (or adapted by the model)', async () => {
  const dir = tempDir();
  const board = join(dir, 'rover.yaml');
  writeFileSync(board, `name: rover
drivers: { sim: { type: sim } }
actuators:
  base: { type: differential_drive, max_rate: 2, calibration: { max_speed_mps: 0.5, max_turn_dps: 120 } }
  led: { type: digital_out, pin: 13 }
`);
  const r = await simRobot({ board });
  try {
    // "wave hello" (shipped) moves the arm: this board has none.
    const res = await r.os.execute('wave hello');
    assert.equal(res.mode, 'REFUSED');
    assert.equal(res.error?.code, 'ERR_TRACE_BOARD_MISMATCH');
    assert.match(res.error?.message ?? '', /uses the actuator "arm", which board "rover" does not have \(it has base\)|uses the tool servo_move, which board "rover" with this configuration does not offer/);
    assert.deepEqual(r.writes(), [], 'nothing moved');
    assert.equal(r.os.decide('wave hello', { allowLlm: true }).mode, 'MIXED', 'with a model, the plan can be adapted');
    const ok = await r.os.execute('drive forward 1 meter');
    assert.equal(ok.ok, true, JSON.stringify(ok.error));
  } finally {
    await r.cleanup();
  }
});

test('a trace with a bad argument in a later step is refused before its first step moves anything', async () => {
  const traces = tempDir();
  writeFileSync(join(traces, 'drive-then-arm.yaml'), `goal_text: drive out and raise the arm
tool_calls:
  - { name: drive, args: { distance_m: 0.5 } }
  - { name: servo_move, args: { actuator: arm, angel: 30 } }
`);
  const r = await simRobot({ shippedTraces: false, overrides: { paths: { traces } } });
  try {
    const res = await r.os.execute('drive out and raise the arm');
    assert.equal(res.mode, 'REFUSED');
    assert.equal(res.error?.code, 'ERR_TRACE_BOARD_MISMATCH');
    assert.match(res.error?.message ?? '', /step 2 \(servo_move\) has arguments its tool refuses: .*\/angle: is required/);
    assert.deepEqual(r.writes(), [], 'step 1 never ran');
  } finally {
    await r.cleanup();
  }
});

test('a queued goal is refused when its turn comes too late, or after a stop that came while it waited', async () => {
  const r = await simRobot({ realTime: true });
  try {
    // The drive takes seconds; the goals behind it wait their turn.
    const drive = r.os.execute('drive forward 1 meter');
    const late = r.os.execute('turn on the led', { notAfter: Date.now() + 100 });
    const res = await late;
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_EXPIRED');
    await drive;
    assert.ok(r.writes().every((w) => w.actuator !== 'led'), 'the late goal wrote nothing');

    const again = r.os.execute('drive forward 1 meter');
    const queued = r.os.execute('turn on the led');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await r.os.stopMotion('link lost');
    const q = await queued;
    assert.equal(q.ok, false);
    assert.match(q.error?.message ?? '', /came after this goal was queued; not started/);
    await again;
    assert.ok(r.writes().every((w) => w.actuator !== 'led'), 'the goal queued before the stop never ran');
    const fresh = await r.os.execute('turn on the led');
    assert.equal(fresh.ok, true, 'goals sent after the stop run');
  } finally {
    await r.cleanup();
  }
});
