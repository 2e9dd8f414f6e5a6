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
import { jogAction, jogTargets, keyName, type JogTarget } from '../runtime/operator/jog-keys.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { readSimLog, runBin, tempDir } from './helpers.js';
import { spawnInPty } from './pty.js';

test('jog keys: arrows and letters, steps relative to the current value, clamped to the range; control keys', () => {
  const profile = loadBoardProfile(packagePath('boards', 'sim.yaml'));
  const targets = jogTargets(profile);
  const by = (name: string): JogTarget => targets.find((t) => t.name === name) as JogTarget;
  const names = targets.map((t) => `${t.name}:${t.kind}`);
  for (const want of ['base:base', 'arm:servo', 'gripper:servo', 'led:digital', 'buzzer:pwm', 'winch:motor']) assert.ok(names.includes(want), want);
  assert.ok(!targets.some((t) => t.spec.type === 'serial_line'), 'serial devices are not jogged');
  assert.deepEqual([keyName('\x1b[A'), keyName('\x1bOB'), keyName('\x03'), keyName('\t'), keyName('W')], ['up', 'down', 'quit', 'tab', 'w']);
  assert.deepEqual(jogAction('up', by('base'), undefined), { kind: 'call', call: { name: 'drive', args: { distance_m: 0.05, speed: 0.3 } } });
  assert.deepEqual(jogAction('s', by('base'), undefined, 2), { kind: 'call', call: { name: 'drive', args: { distance_m: -0.1, speed: 0.3 } } });
  assert.deepEqual(jogAction('left', by('base'), undefined), { kind: 'call', call: { name: 'turn', args: { degrees: 10, speed: 0.3 } } }, 'left is a positive (counter-clockwise) turn');
  assert.deepEqual(jogAction('right', by('base'), undefined), { kind: 'call', call: { name: 'turn', args: { degrees: -10, speed: 0.3 } } });
  const arm = by('arm');
  assert.deepEqual(jogAction('up', arm, 100), { kind: 'call', call: { name: 'servo_move', args: { actuator: 'arm', angle: 105 } } });
  assert.deepEqual(jogAction('down', arm, arm.spec.range[0] + 1), { kind: 'call', call: { name: 'servo_move', args: { actuator: 'arm', angle: arm.spec.range[0] } } }, 'clamped to the range');
  assert.deepEqual(jogAction('up', by('led'), undefined), { kind: 'call', call: { name: 'digital_write', args: { actuator: 'led', value: true } } });
  assert.deepEqual(jogAction('down', by('led'), undefined), { kind: 'call', call: { name: 'digital_write', args: { actuator: 'led', value: false } } });
  for (const [key, kind] of [['q', 'quit'], ['quit', 'quit'], ['space', 'stop'], ['x', 'estop'], ['r', 'release'], ['tab', 'next'], ['z', 'none']] as const) {
    assert.equal(jogAction(key, arm, 90).kind, kind, key);
  }
  assert.deepEqual(jogAction('3', arm, 90), { kind: 'select', index: 2 });
  assert.equal(jogAction('up', undefined, undefined).kind, 'none', 'nothing selected: nothing moves');
});

function jogArgs(dir: string, extra: string[]): string[] {
  return [process.execPath, packagePath('dist', 'bin', 'llmos.js'), 'jog', '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--sim-log', join(dir, 'sim.jsonl'), ...extra];
}

test('llmos jog on a terminal: keys drive the base; the e-stop key latches and refuses steps until r; q leaves everything at rest', async () => {
  const dir = tempDir('llmos-jog-');
  mkdirSync(join(dir, 'traces'));
  const p = spawnInPty(jogArgs(dir, []));
  await p.waitFor(/\[1\/\d+ base base = [^\]]*\] step x1 \| steps 0/);
  p.type('w');
  let mark = p.output.length;
  await p.waitFor(/steps 1 /, mark);
  assert.ok(readSimLog(join(dir, 'sim.jsonl')).some((w) => w.actuator === 'base' && typeof w.value === 'number' && w.value > 0), 'the base drove forward');
  mark = p.output.length;
  p.type('x');
  await p.waitFor(/e-stop engaged/, mark);
  mark = p.output.length;
  p.type('w');
  await p.waitFor(/ERR_ESTOP_ENGAGED/, mark);
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

test('llmos jog --teach: a held key becomes one call of its whole distance, saved as a taught trace that replays', async () => {
  const dir = tempDir('llmos-jog-');
  mkdirSync(join(dir, 'traces'));
  const p = spawnInPty(jogArgs(dir, ['--teach', 'creep forward 0.2 meters', '--yes']));
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
  assert.deepEqual(trace.tool_calls, [{ name: 'drive', args: { distance_m: '{{distance_m}}', speed: 0.3 } }], 'four 5 cm steps became one drive of the goal\'s 0.2 m');
  const replay = await runBin('run-follower.js', ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--json', 'creep forward 0.4 meters']);
  const r = JSON.parse(replay.stdout.trim()) as { mode: string; params: Record<string, number>; ok: boolean };
  assert.deepEqual([r.mode, r.params['distance_m'], r.ok], ['FOLLOWER', 0.4, true], replay.stderr);
});

test('llmos jog without a terminal is a usage error naming what to use instead', async () => {
  const r = await runBin('llmos.js', ['jog'], { input: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /jog needs a terminal/);
});
