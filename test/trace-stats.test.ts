/**
 * Trace files are data: runs are counted in the state directory, the shipped traces carry no
 * development statistics, and the README's first command leaves a clone clean.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { packagePath, packageRoot } from '../lib/paths.js';
import { parseYaml } from '../lib/yaml-file.js';
import { runBin, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

test('the shipped traces carry no development statistics', () => {
  for (const name of readdirSync(packagePath('traces')).filter((n) => n.endsWith('.yaml'))) {
    const doc = parseYaml(readFileSync(packagePath('traces', name), 'utf8'), name, 'ERR_TRACE_INVALID') as Record<string, unknown>;
    assert.ok(doc['usage_count'] === undefined || doc['usage_count'] === 0, `${name}: usage_count ${String(doc['usage_count'])}`);
    assert.equal(doc['success_count'], undefined, `${name}: success_count`);
    assert.equal(doc['last_used'], undefined, `${name}: last_used`);
    assert.ok(doc['success_rate'] === undefined || doc['success_rate'] === 1, `${name}: success_rate ${String(doc['success_rate'])}`);
  }
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=ci@example.invalid', '-c', 'user.name=ci', ...args], { cwd, encoding: 'utf8' });
}

test('after the README\'s first command, git status is clean', { timeout: 120_000 }, async () => {
  const readme = readFileSync(packagePath('README.md'), 'utf8');
  const first = /```sh\n([^\n]*)\n/.exec(readme)?.[1] ?? '';
  const cmd = /^npm install && (npm start -- [^#]*?)\s*#/.exec(first)?.[1];
  assert.equal(cmd, 'npm start -- --sim-log sim.jsonl "drive forward 1 meter"', `the README's first command changed: ${first}`);
  // A clone: the tracked files in a fresh repository; the build and dependencies beside them as
  // `npm install` leaves them (both ignored by .gitignore).
  const clone = tempDir('llmos-clone-');
  for (const f of git(packageRoot, 'ls-files', '-z').split('\0').filter(Boolean)) {
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(join(packageRoot, f), join(clone, f));
  }
  git(clone, 'init', '-q');
  git(clone, 'add', '-A');
  git(clone, 'commit', '-qm', 'clone');
  cpSync(packagePath('dist'), join(clone, 'dist'), { recursive: true });
  symlinkSync(packagePath('node_modules'), join(clone, 'node_modules'));
  assert.equal(git(clone, 'status', '--porcelain'), '', 'dist/ and node_modules/ are ignored');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('npm', ['start', '--', '--sim-log', 'sim.jsonl', 'drive forward 1 meter'], { cwd: clone, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
  assert.equal(code, 0);
  assert.ok(readFileSync(join(clone, 'sim.jsonl'), 'utf8').includes('"actuator":"base"'), 'the goal ran');
  assert.equal(git(clone, 'status', '--porcelain', '--untracked-files=all'), '', 'no tracked file changed and nothing new outside ignored paths');
  // The runs were counted, in the (ignored) state directory.
  const list = await runMain('llmos', ['traces', 'show', 'drive forward 1 meter', '--json'], { cwd: clone });
  assert.equal(list.code, 0, list.stderr);
  assert.equal((JSON.parse(list.stdout) as { usage_count: number }).usage_count, 1);
});

test('bundle export carries the merged statistics; the traces directory stays as it was', async () => {
  const dir = tempDir('llmos-stats-');
  const traces = join(dir, 'traces');
  const state = join(dir, 'state');
  cpSync(packagePath('traces'), traces, { recursive: true });
  const flags = ['--traces', traces, '--state', state];
  const before = readFileSync(join(traces, 'beep.yaml'), 'utf8');
  const runs = await runMain('run-follower', [...flags, '--sim-time', 'virtual', '-'], { cwd: dir, input: 'beep\nbeep\nbeep\n' });
  assert.equal(runs.code, 0, runs.stderr);
  assert.equal(readFileSync(join(traces, 'beep.yaml'), 'utf8'), before);
  const out = join(dir, 'b.json');
  const ex = await runMain('llmos', ['bundle', 'export', out, '--only', 'beep,wave hello', ...flags], { cwd: dir });
  assert.equal(ex.code, 0, ex.stderr);
  const files = (JSON.parse(readFileSync(out, 'utf8')) as { files: Record<string, string> }).files;
  const beep = parseYaml(files['traces/beep.yaml'] as string, 'beep', 'ERR_TRACE_INVALID') as Record<string, unknown>;
  assert.equal(beep['usage_count'], 3);
  assert.equal(beep['success_count'], 3);
  assert.match(String(beep['last_used']), /^20\d\d-/);
  assert.equal(files['traces/wave-hello.yaml'], readFileSync(join(traces, 'wave-hello.yaml'), 'utf8'), 'a trace with no runs is exported byte for byte');
  // Import keeps the seed's fields: the other board starts from 3 runs.
  const other = tempDir('llmos-stats-b-');
  const im = await runMain('llmos', ['bundle', 'import', out, '--traces', join(other, 'traces'), '--state', join(other, 'state')], { cwd: other });
  assert.equal(im.code, 0, im.stderr);
  const show = await runMain('llmos', ['traces', 'show', 'beep', '--json', '--traces', join(other, 'traces'), '--state', join(other, 'state')], { cwd: other });
  assert.equal((JSON.parse(show.stdout) as { usage_count: number }).usage_count, 3);
});
