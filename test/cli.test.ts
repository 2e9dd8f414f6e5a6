import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, runBin, tempDir , type CliRun } from './helpers.js';
import { runMain } from './run-main.js';


/** In-process (the command's main); the --help test below spawns the real launcher. */
function run(args: string[], input?: string, cwd = tempDir()): Promise<CliRun> {
  return runMain('run-follower', args, { cwd, ...(input !== undefined ? { input } : {}) });
}

/** A private copy of the shipped traces: runs update usage counts, and the repo must stay clean. */
const common = (dir: string): string[] => {
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  return ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual'];
};

test('--help explains usage and exits 0 (the bundled launcher, spawned)', async () => {
  const r = await runBin('run-follower.js', ['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage:/);
  assert.match(r.stdout, /--explain/);
  assert.match(r.stdout, /Exit status: 0/);
});

test('--json prints FOLLOWER with llm_calls 0 and the sim log shows the writes', async () => {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  const r = await run([...common(dir), '--json', '--sim-log', log, 'drive forward 1.5 meters']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  for (const k of ['goal', 'mode', 'trace', 'score', 'params', 'ok', 'llm_calls']) assert.ok(k in out, k);
  assert.equal(out['mode'], 'FOLLOWER');
  assert.equal(out['llm_calls'], 0);
  assert.equal(out['ok'], true);
  assert.deepEqual(out['params'], { distance: 1.5 });
  const writes = readSimLog(log);
  assert.ok(writes.length > 0 && writes.every((w) => w.actuator === 'base'));
  assert.ok(writes.every((w) => typeof w.t === 'number' && typeof w.value === 'number'));
});

test('a refused goal exits 1 with error code and nearest traces in the JSON', async () => {
  const dir = tempDir();
  const r = await run([...common(dir), '--json', 'turn left']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout.trim()) as { mode: string; trace: null; error: { code: string; message: string }; nearest: unknown[] };
  assert.equal(out.mode, 'REFUSED');
  assert.equal(out.trace, null);
  assert.equal(out.error.code, 'ERR_NO_MATCH');
  assert.ok(out.nearest.length > 0);
});

test('"-" reads goals from stdin, one JSON line each, in order; --explain moves nothing', async () => {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  const r = await run([...common(dir), '--json', '--explain', '--sim-log', log, '-'], 'wave hello\n\n# a comment\nturn right 30 degrees\nfly to the moon\nopen the gripper then beep\n');
  assert.equal(r.code, 1, 'one goal is refused');
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { goal: string; mode: string; explain: boolean; params: Record<string, number> });
  assert.deepEqual(lines.map((l) => l.goal), ['wave hello', 'turn right 30 degrees', 'fly to the moon', 'open the gripper then beep']);
  assert.deepEqual(lines.map((l) => l.mode), ['FOLLOWER', 'FOLLOWER', 'REFUSED', 'ORCHESTRATOR']);
  assert.ok(lines.every((l) => l.explain));
  assert.deepEqual(lines[1]?.params, { angle: 30 });
  assert.deepEqual(readSimLog(log), []);
});

test('bad usage and bad configuration exit 2 with a coded message', async () => {
  const unknown = await run(['--frobnicate', 'x']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /ERR_USAGE: Unknown option '--frobnicate'/);
  const noGoal = await run([]);
  assert.equal(noGoal.code, 2);
  assert.match(noGoal.stderr, /ERR_USAGE/);
  const dir = tempDir();
  writeFileSync(join(dir, 'c.yaml'), 'safety: { speed_scale: 2 }\n');
  const badCfg = await run(['--config', join(dir, 'c.yaml'), 'beep']);
  assert.equal(badCfg.code, 2);
  assert.match(badCfg.stderr, /ERR_CONFIG_INVALID: .*c\.yaml: \/safety\/speed_scale: must be <= 1/);
  const badTime = await run(['--sim-time', 'warp', 'beep']);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /\/sim\/time: must be one of "real", "virtual"/);
  writeFileSync(join(dir, 'b.yaml'), 'name: b\nactuators: { m: { type: motor, driver: ghost } }\n');
  const badBoard = await run(['--board', join(dir, 'b.yaml'), 'beep']);
  assert.equal(badBoard.code, 2);
  assert.match(badBoard.stderr, /ERR_BOARD_PROFILE: .*\/actuators\/m\/driver: names driver "ghost"/);
});

test('--check-board prints a table of the devices it found', async () => {
  const r = await run(['--check-board', '--board', 'sim']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^device\s+kind\s+type\s+driver\s+status/m);
  for (const d of ['base', 'arm', 'gripper', 'led', 'buzzer', 'winch', 'uart', 'distance', 'battery']) assert.match(r.stdout, new RegExp(`^${d}\\s`, 'm'));
});
