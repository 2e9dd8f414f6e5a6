/**
 * Jog: the key map on its own, and `llmos jog` on a real pseudo-terminal: keys move the sim board
 * through the gate, the e-stop key latches and refuses further steps until released, and
 * `--teach` turns a held key into one call that replays as a taught trace.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { packagePath } from '../lib/paths.js';
import { jogAction, jogTargets, keyName, splitKeys, type JogAction, type JogTarget } from '../runtime/operator/jog-keys.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { readSimLog, tempDir } from './helpers.js';
import { runMain } from './run-main.js';
import { spawnInPty } from './pty.js';

const STEP = { current: undefined, scale: 1, stepMs: 250 };

function callOf(a: JogAction): unknown {
  assert.equal(a.kind, 'call');
  return (a as Extract<JogAction, { kind: 'call' }>).call;
}

test('jog keys: arrows and letters, steps sized to half the deadman window, relative to the current value, clamped; control keys', () => {
  const profile = loadBoardProfile(packagePath('boards', 'sim.yaml'));
  const targets = jogTargets(profile);
  const by = (name: string): JogTarget => targets.find((t) => t.name === name) as JogTarget;
  const names = targets.map((t) => `${t.name}:${t.kind}`);
  for (const want of ['base:base', 'arm:servo', 'gripper:servo', 'led:digital', 'buzzer:pwm', 'winch:motor']) assert.ok(names.includes(want), want);
  assert.ok(!targets.some((t) => t.spec.type === 'serial_line'), 'serial devices are not jogged');
  assert.deepEqual(splitKeys('w\x1b[A\x1b[1;2A\x1b[15~\x1bOBq'), ['w', '\x1b[A', '\x1b[1;2A', '\x1b[15~', '\x1bOB', 'q'], 'escape sequences stay whole');
  assert.deepEqual(splitKeys('w\x1b[A\x1b[1;2A\x1b[15~\x1bOBq').map(keyName), ['w', 'up', 'unknown', 'unknown', 'down', 'q'], 'a Shift+Up or F5 is no key, never its letters');
  assert.deepEqual([keyName('\x03'), keyName('\t'), keyName('W')], ['quit', 'tab', 'w']);
  const base = by('base');
  const cal = base.spec.calibration as { max_speed_mps: number; max_turn_dps: number };
  const drive = callOf(jogAction('up', base, STEP)) as { name: string; args: { distance_m: number; speed: number } };
  assert.equal(drive.name, 'drive');
  assert.ok(drive.args.distance_m > 0 && drive.args.distance_m / (drive.args.speed * cal.max_speed_mps) <= 0.25 + 1e-3, 'one step lasts at most half the deadman window at full speed');
  const back = callOf(jogAction('s', base, { ...STEP, scale: 2 })) as { args: { distance_m: number; speed: number } };
  assert.ok(back.args.distance_m < 0 && back.args.speed > drive.args.speed, 'backwards, faster at x2, still one window long');
  const left = callOf(jogAction('left', base, STEP)) as { name: string; args: { degrees: number } };
  const right = callOf(jogAction('right', base, STEP)) as { name: string; args: { degrees: number } };
  assert.ok(left.name === 'turn' && left.args.degrees > 0 && right.args.degrees === -left.args.degrees, 'left is a positive (counter-clockwise) turn');
  const arm = by('arm');
  assert.deepEqual(jogAction('up', arm, { ...STEP, current: 100 }), { kind: 'call', call: { name: 'servo_move', args: { actuator: 'arm', angle: 105 } } });
  assert.deepEqual(jogAction('down', arm, { ...STEP, current: arm.spec.range[0] + 1 }), { kind: 'call', call: { name: 'servo_move', args: { actuator: 'arm', angle: arm.spec.range[0] } } }, 'clamped to the range');
  assert.deepEqual(jogAction('up', by('led'), STEP), { kind: 'call', call: { name: 'digital_write', args: { actuator: 'led', value: true } } });
  assert.deepEqual(jogAction('down', by('led'), STEP), { kind: 'call', call: { name: 'digital_write', args: { actuator: 'led', value: false } } });
  const winch = callOf(jogAction('up', by('winch'), STEP)) as { args: { duration_ms: number } };
  assert.equal(winch.args.duration_ms, 250, 'a motor runs for one step');
  for (const [key, kind] of [['q', 'quit'], ['quit', 'quit'], ['space', 'stop'], ['x', 'estop'], ['r', 'release'], ['tab', 'next'], ['z', 'none'], ['unknown', 'none']] as const) {
    assert.equal(jogAction(key, arm, { ...STEP, current: 90 }).kind, kind, key);
  }
  assert.deepEqual(jogAction('3', arm, STEP), { kind: 'select', index: 2 });
  assert.equal(jogAction('up', undefined, STEP).kind, 'none', 'nothing selected: nothing moves');
});

function jogArgs(dir: string, extra: string[]): string[] {
  return [process.execPath, packagePath('dist', 'bin', 'llmos.js'), 'jog', '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--sim-log', join(dir, 'sim.jsonl'), ...extra];
}

test('llmos jog on a terminal: keys drive the base; the e-stop key latches and refuses steps until r is pressed twice; q leaves everything at rest', async () => {
  const dir = tempDir('llmos-jog-');
  mkdirSync(join(dir, 'traces'));
  const p = spawnInPty(jogArgs(dir, []));
  await p.waitFor(/\[1\/\d+ base base = [^\]]*\] speed x1 \| steps 0 \| e-stop off \| moving: none/);
  p.type('w');
  let mark = p.output.length;
  await p.waitFor(/steps 1 /, mark);
  assert.ok(readSimLog(join(dir, 'sim.jsonl')).some((w) => w.actuator === 'base' && typeof w.value === 'number' && w.value > 0), 'the base drove forward');
  mark = p.output.length;
  p.type('\x1b[1;2A'); // Shift+Up: not a key here, and never the "1" and "2" of its sequence
  p.type('x');
  await p.waitFor(/e-stop engaged/, mark);
  assert.match(p.output.slice(mark), /\[1\/\d+ base base/, 'still on the base: the sequence selected nothing');
  mark = p.output.length;
  p.type('w');
  await p.waitFor(/ERR_ESTOP_ENGAGED/, mark);
  mark = p.output.length;
  p.type('r');
  await p.waitFor(/press r again to release/, mark);
  mark = p.output.length;
  p.type('r');
  await p.waitFor(/e-stop released/, mark);
  mark = p.output.length;
  p.type('\x1b[A');
  await p.waitFor(/steps 2 /, mark);
  p.type('q');
  assert.equal(await p.exited, 0, p.output.slice(-1500));
  const base = readSimLog(join(dir, 'sim.jsonl')).filter((w) => w.actuator === 'base');
  assert.equal(base.at(-1)?.value, 0, 'at rest at the end');
});

test('llmos jog: q while a held key still has steps waiting starts nothing more: no drive is let through after the quit\'s stop', async () => {
  const dir = tempDir('llmos-jog-');
  mkdirSync(join(dir, 'traces'));
  const p = spawnInPty(jogArgs(dir, []));
  await p.waitFor(/steps 0/);
  p.type('wwwwwwwwww'); // a held key: ten repeats in one read, then let go and quit at once
  p.type('q');
  assert.equal(await p.exited, 0, p.output.slice(-1500));
  const audit = readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string; decision: string; reason?: string });
  const quitAt = audit.findIndex((e) => e.tool === 'safe_state' && e.reason === 'jog: quit');
  assert.ok(quitAt >= 0, 'the quit brought everything to rest');
  assert.deepEqual(audit.slice(quitAt).filter((e) => e.tool === 'drive' && e.decision === 'allow'), [], 'no step started after the quit');
  const drives = audit.filter((e) => e.tool === 'drive').length;
  assert.ok(drives <= 2, `only the first press and the newest waiting one may run, not all ten (${drives})`);
});

test('llmos jog --teach: a held key becomes one call of its whole distance, saved as a taught trace that replays', async () => {
  const dir = tempDir('llmos-jog-');
  mkdirSync(join(dir, 'traces'));
  const profile = loadBoardProfile(packagePath('boards', 'sim.yaml'));
  const base = jogTargets(profile).find((t) => t.kind === 'base') as JogTarget;
  const step = (callOf(jogAction('w', base, STEP)) as { args: { distance_m: number } }).args.distance_m;
  const total = Number((4 * step).toFixed(6));
  const p = spawnInPty(jogArgs(dir, ['--teach', `creep forward ${total} meters`, '--yes']));
  await p.waitFor(/steps 0/);
  for (let i = 1; i <= 4; i++) {
    const mark = p.output.length;
    p.type('w');
    await p.waitFor(new RegExp(`steps ${i} `), mark);
  }
  p.type('q');
  assert.equal(await p.exited, 0, p.output.slice(-1500));
  const files = readdirSync(join(dir, 'traces'));
  assert.equal(files.length, 1);
  const trace = parseYaml(readFileSync(join(dir, 'traces', files[0] as string), 'utf8')) as { origin: string; tool_calls: Array<{ name: string; args: Record<string, unknown> }> };
  assert.equal(trace.origin, 'taught');
  assert.deepEqual(trace.tool_calls, [{ name: 'drive', args: { distance_m: '{{distance_m}}', speed: 0.3 } }], `four steps of ${step} m became one drive of the goal's ${total} m`);
  const replay = await runMain('run-follower', ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--json', 'creep forward 0.4 meters']);
  const r = JSON.parse(replay.stdout.trim()) as { mode: string; params: Record<string, number>; ok: boolean };
  assert.deepEqual([r.mode, r.params['distance_m'], r.ok], ['FOLLOWER', 0.4, true], replay.stderr);
});

test('llmos jog without a terminal is a usage error naming what to use instead', async () => {
  const r = await runMain('llmos', ['jog'], { input: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /jog needs a terminal/);
});
