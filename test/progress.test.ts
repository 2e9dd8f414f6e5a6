/**
 * Progress of a long goal, met where a person meets it: run-follower with standard error on a
 * real pseudo-terminal shows the step, its tool and the elapsed time there, and standard output
 * (a pipe) gets exactly the result line; without a terminal nothing extra is printed.
 */
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { tempDir } from './helpers.js';
import { runMain } from './run-main.js';
import { runWithTerminalStderr } from './pty-stderr.js';

function flags(): string[] {
  const dir = tempDir('llmos-progress-');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  // Real time: progress is about what a person waits for (the goal waits 2 s of real time).
  return ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--json'];
}

test('a goal longer than a second shows its step, tool and elapsed time on a terminal\'s stderr; stdout stays one JSON line', async () => {
  const r = await runWithTerminalStderr([process.execPath, packagePath('dist', 'bin', 'run-follower.js'), ...flags(), 'wait 2 seconds']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wait 2 seconds: step 1 wait, \d+\.\d s/);
  assert.match(r.stderr, /\x1b\[2K$/, 'the progress line is erased at the end');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0] as string) as { ok: boolean }).ok, true);
});

test('no progress when stderr is not a terminal', async () => {
  const r = await runMain('run-follower', [...flags(), 'wait 2 seconds']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /step 1 wait/);
  assert.equal(r.stdout.trim().split('\n').length, 1);
});
