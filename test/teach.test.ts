/**
 * Operator tools end to end through the bundled binaries: `:call` lines on run-follower's standard
 * input, and `llmos teach` recording direct calls into a trace that the follower then replays
 * with its own number bound to the taught parameter and no LLM call.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { packagePath } from '../lib/paths.js';
import { parseCallLine, formatCallLine } from '../runtime/operator/call-line.js';
import { TeachRecorder } from '../runtime/operator/teach.js';
import { TOOL_UNITS } from '../safety/tools/index.js';
import { readSimLog, runBin, simRobot, tempDir } from './helpers.js';

function board(): { traces: string; state: string; simLog: string; flags: string[] } {
  const dir = tempDir('llmos-teach-');
  const traces = join(dir, 'traces');
  cpSync(packagePath('traces'), traces, { recursive: true });
  const state = join(dir, 'state');
  const simLog = join(dir, 'sim.jsonl');
  return { traces, state, simLog, flags: ['--traces', traces, '--state', state, '--sim-time', 'virtual'] };
}

test('call lines: numbers, booleans, quoted strings and JSON; bad lines name what is wrong', () => {
  assert.deepEqual(parseCallLine('servo_move actuator=arm angle=45'), { name: 'servo_move', args: { actuator: 'arm', angle: 45 } });
  assert.deepEqual(parseCallLine('digital_write actuator=led value=true'), { name: 'digital_write', args: { actuator: 'led', value: true } });
  assert.deepEqual(parseCallLine('serial_send actuator=uart line="GRIP 40"'), { name: 'serial_send', args: { actuator: 'uart', line: 'GRIP 40' } });
  assert.deepEqual(parseCallLine('drive {"distance_m": -0.5}'), { name: 'drive', args: { distance_m: -0.5 } });
  const proto = parseCallLine('drive __proto__=1');
  assert.equal(Object.getPrototypeOf(proto.args), Object.prototype, 'an argument named __proto__ never sets the prototype');
  assert.ok(Object.hasOwn(proto.args, '__proto__'), 'it stays an own (and so schema-refused) argument');
  for (const bad of ['', '1abc x=1', 'drive distance_m', 'drive =3', 'drive a=1 a=2', 'drive {nope', 'drive [1]', 'serial_send line="open']) {
    assert.throws(() => parseCallLine(bad), (e: Error & { code?: string }) => e.code === 'ERR_USAGE', bad);
  }
  assert.deepEqual(parseCallLine('serial_send actuator=uart line="40" on="true"'), { name: 'serial_send', args: { actuator: 'uart', line: '40', on: 'true' } }, 'a quoted value stays a string');
  for (const args of [{ actuator: 'uart', line: 'GRIP 40', n: 3 }, { actuator: 'uart', line: '40', flag: true, text: 'false' }]) {
    assert.deepEqual(parseCallLine(formatCallLine({ name: 'serial_send', args })), { name: 'serial_send', args }, 'an echoed call reads back as the same call');
  }
});

test('teach recorder: a held key coalesces into one call of its whole amount; reversals and other tools do not merge', () => {
  const r = new TeachRecorder('drive forward 0.3 meters');
  for (let i = 0; i < 3; i++) r.add({ name: 'drive', args: { distance_m: 0.1 }, held: true });
  r.add({ name: 'drive', args: { distance_m: -0.1 }, held: true });
  r.add({ name: 'servo_move', args: { actuator: 'arm', angle: 95 }, held: true });
  r.add({ name: 'servo_move', args: { actuator: 'arm', angle: 100 }, held: true });
  r.add({ name: 'servo_move', args: { actuator: 'gripper', angle: 10 }, held: true });
  r.add({ name: 'servo_move', args: { actuator: 'gripper', angle: 20 } });
  assert.deepEqual(r.recorded, [
    { name: 'drive', args: { distance_m: 0.3 } },
    { name: 'drive', args: { distance_m: -0.1 } },
    { name: 'servo_move', args: { actuator: 'arm', angle: 100 } },
    { name: 'servo_move', args: { actuator: 'gripper', angle: 10 } },
    { name: 'servo_move', args: { actuator: 'gripper', angle: 20 } },
  ]);
  const t = r.toTrace((tool, arg) => TOOL_UNITS[tool]?.[arg]);
  assert.equal(t.origin, 'taught');
  assert.equal(t.tool_calls[0]?.args['distance_m'], '{{distance_m}}', 'the goal number 0.3 binds the coalesced distance');
  assert.throws(() => new TeachRecorder('wave').toTrace(() => undefined), (e: Error & { code?: string }) => e.code === 'ERR_USAGE');
});

test('run-follower: a :call line moves the board through the gate; a bad one fails with its code and moves nothing', async () => {
  const b = board();
  const ok = await runBin('run-follower.js', [...b.flags, '--sim-log', b.simLog, '--json', '-'], { input: ':call servo_move actuator=arm angle=45\n' });
  assert.equal(ok.code, 0, ok.stderr);
  const line = JSON.parse(ok.stdout.trim()) as { ok: boolean; call: string };
  assert.equal(line.ok, true);
  assert.equal(line.call, 'servo_move');
  const arm = readSimLog(b.simLog).filter((w) => w.actuator === 'arm');
  assert.ok(arm.some((w) => w.value === 45), 'the arm reached 45 degrees');

  const b2 = board();
  const bad = await runBin('run-follower.js', [...b2.flags, '--sim-log', b2.simLog, '--json', '-'], { input: ':call servo_move actuator=arm angle=999\n:call nosuch_tool x=1\n' });
  assert.equal(bad.code, 1);
  const lines = bad.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
  assert.deepEqual(lines.map((l) => [l.ok, l.error?.code]), [[false, 'ERR_SAFETY_RANGE'], [false, 'ERR_TOOL_UNKNOWN']]);
  assert.equal(readSimLog(b2.simLog).filter((w) => w.actuator === 'arm').length, 0, 'nothing moved');
});

test('llmos teach: direct calls on stdin become a taught trace that replays as FOLLOWER with the goal\'s own number', async () => {
  const b = board();
  const taught = await runBin('llmos.js', ['teach', 'raise the arm to 120 degrees', '--yes', ...b.flags, '--sim-log', b.simLog, '--json', '-'], {
    input: '# a demonstration\n:call servo_move actuator=arm angle=120\n',
  });
  assert.equal(taught.code, 0, taught.stderr);
  const saved = JSON.parse(taught.stdout.trim()) as { ok: boolean; file: string; signature: string; parameters: string[] };
  assert.deepEqual(saved.parameters, ['angle']);
  const trace = parseYaml(readFileSync(saved.file, 'utf8')) as { origin: string; tool_calls: Array<{ name: string; args: Record<string, unknown> }> };
  assert.equal(trace.origin, 'taught');
  assert.deepEqual(trace.tool_calls, [{ name: 'servo_move', args: { actuator: 'arm', angle: '{{angle}}' } }]);
  assert.ok(readSimLog(b.simLog).some((w) => w.actuator === 'arm' && w.value === 120), 'teaching moved the arm');

  const replay = await runBin('run-follower.js', [...b.flags, '--json', 'raise the arm to 100 degrees']);
  assert.equal(replay.code, 0, replay.stderr);
  const r = JSON.parse(replay.stdout.trim()) as { mode: string; trace: string; params: Record<string, number>; llm_calls: number; ok: boolean };
  assert.deepEqual([r.mode, r.trace, r.params['angle'], r.llm_calls, r.ok], ['FOLLOWER', saved.signature, 100, 0, true]);
});

test('llmos teach: a failed call, an empty demonstration or no way to confirm saves nothing', async () => {
  const b = board();
  const before = readdirSync(b.traces).sort();
  const failed = await runBin('llmos.js', ['teach', 'swing the arm', '--yes', ...b.flags, '-'], { input: ':call servo_move actuator=arm angle=30\n:call servo_move actuator=arm angle=9999\n' });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ERR_SAFETY_RANGE/);
  const empty = await runBin('llmos.js', ['teach', 'swing the arm', '--yes', ...b.flags, '-'], { input: ':show\n' });
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /nothing was recorded/);
  // Detached: no controlling terminal to ask on, even when the suite runs in a developer's terminal.
  const noTerminal = await runBin('llmos.js', ['teach', 'swing the arm', ...b.flags, '-'], { input: ':call servo_move actuator=arm angle=30\n', detached: true });
  assert.equal(noTerminal.code, 1);
  assert.match(noTerminal.stderr, /not saved/);
  const usage = await runBin('llmos.js', ['teach', ...b.flags]);
  assert.equal(usage.code, 2);
  assert.deepEqual(readdirSync(b.traces).sort(), before, 'no trace file was written');
});

test('a queued operator call is discarded by a stop that came after it (as a goal is); a quiet sensor read is not audited', async () => {
  const r = await simRobot();
  try {
    const goal = r.os.execute('drive forward 1 meter');
    const queued = r.os.callTool({ name: 'servo_move', args: { actuator: 'arm', angle: 150 } });
    await r.os.stopMotion('operator: stop');
    await goal;
    await assert.rejects(queued, (e: Error & { code?: string }) => e.code === 'ERR_ABORTED' && /came after this call was queued/.test(e.message));
    assert.ok(!r.writes().some((w) => w.actuator === 'arm' && w.value === 150), 'the arm never went to 150');

    await r.os.gate.call({ name: 'sensor_read', args: { sensor: 'distance' } }, { source: 'api', runId: 'telemetry', quiet: true });
    await r.os.gate.call({ name: 'sensor_read', args: { sensor: 'battery' } }, { source: 'api', runId: 'status' });
    r.os.flushSync();
    const audit = readFileSync(join(r.dir, 'state', 'audit.jsonl'), 'utf8');
    assert.doesNotMatch(audit, /"run":"telemetry"/, 'a periodic read that succeeded is not audited');
    assert.match(audit, /"run":"status"/, 'an ordinary read is');
  } finally {
    await r.cleanup();
  }
});
