/**
 * Issue 16's "Checked by", where a user meets it: run-follower on the shipped sim board in
 * virtual time. From the room's centre `drive forward 3 meters` fails with ERR_SAFETY_REFLEX, the
 * sim log has no collision, the distance afterwards is at least 0.30 m, and `drive backward 1
 * meter` then succeeds. A goal towards a wall closer than the limit is refused before any write.
 */
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

interface Line { goal: string; ok: boolean; error?: { code: string; message: string }; steps: Array<{ value?: { value?: number } }> }

function setup(): { dir: string; args: string[]; log: string } {
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const log = join(dir, 'sim.jsonl');
  return { dir, log, args: ['--sim-time', 'virtual', '--json', '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log] };
}

test('drive forward 3 meters from the centre stops short of the wall with ERR_SAFETY_REFLEX; backing away then works', async () => {
  const { dir, args, log } = setup();
  const run = await runMain('run-follower', [...args, '-'], { cwd: dir, input: 'read the distance\ndrive forward 3 meters\nread the distance\ndrive backward 1 meter\n' });
  const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  assert.equal(lines.length, 4, run.stderr);
  assert.equal(lines[0]?.steps[0]?.value?.value, 2.5, 'starts 2.5 m from the wall');
  assert.equal(lines[1]?.ok, false);
  assert.equal(lines[1]?.error?.code, 'ERR_SAFETY_REFLEX', JSON.stringify(lines[1]?.error));
  assert.match(lines[1]?.error?.message ?? '', /reflex "keep-distance": distance reads/);
  const after = lines[2]?.steps[0]?.value?.value ?? 0;
  assert.ok(after >= 0.3, `at least 0.30 m from the wall afterwards: ${after}`);
  assert.ok(after < 1, `it did drive towards the wall: ${after}`);
  assert.equal(lines[3]?.ok, true, JSON.stringify(lines[3]?.error));
  const sim = readSimLog(log);
  assert.equal(sim.filter((w) => (w as unknown as { event?: string }).event === 'collision').length, 0, 'no collision in the sim log');
  assert.ok(sim.some((w) => w.actuator === 'base' && typeof w.value === 'number' && w.value < 0), 'it reversed');
  assert.equal(run.code, 1, 'a goal failed');
});

test('a goal towards a wall closer than the limit is refused before any write (--sim-world)', async () => {
  const { dir, args, log } = setup();
  const world = join(dir, 'world.yaml');
  writeFileSync(world, 'room: { width_m: 3, depth_m: 3 }\nstart: { x: 1.3, y: 0, heading_deg: 0 }\n');
  const run = await runMain('run-follower', [...args, '--sim-world', world, 'drive forward 1 meter'], { cwd: dir });
  const line = JSON.parse(run.stdout.trim()) as Line;
  assert.equal(line.error?.code, 'ERR_SAFETY_REFLEX', run.stdout + run.stderr);
  assert.match(line.error?.message ?? '', /distance reads 0\.2 m \(below 0\.3 m/);
  assert.equal(readSimLog(log).filter((w) => w.actuator === 'base').length, 0, 'nothing was written');
  assert.equal(run.code, 1);
  const bad = await runMain('run-follower', [...args, '--sim-world', join(dir, 'missing.yaml'), 'drive forward 1 meter'], { cwd: dir });
  assert.equal(bad.code, 2, 'a missing world file is a configuration error');
  assert.match(bad.stderr, /missing\.yaml/);
});
