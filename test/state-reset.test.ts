/**
 * llmos state reset: forgets sentience and run statistics, and releases a persisted e-stop by
 * the rules of any release (refused while the e-stop button is active, here a GPIO twin's input
 * read by a separate process); it asks first, and nothing is reset without an answer.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { EstopLatchFile } from '../safety/estop-latch.js';
import { estopPanel, runBin, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

test('state reset --sentience --stats removes their files; nothing without --yes or a terminal; no flag is a usage error', async () => {
  const dir = tempDir('llmos-reset-');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const flags = ['--traces', join(dir, 'traces'), '--state', join(dir, 'state')];
  const run = await runMain('run-follower', [...flags, '--sim-time', 'virtual', 'turn on the led']);
  assert.equal(run.code, 0, run.stderr);
  const sentience = join(dir, 'state', 'sentience.json');
  const stats = join(dir, 'state', 'trace-stats.jsonl');
  assert.ok(existsSync(sentience) && existsSync(stats), 'the run left sentience and statistics');
  const usage = await runMain('llmos', ['state', 'reset', ...flags]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /say what to reset/);
  const unasked = await runBin('llmos.js', ['state', 'reset', '--sentience', ...flags], { detached: true });
  assert.equal(unasked.code, 1);
  assert.ok(existsSync(sentience), 'not confirmed: nothing reset');
  const done = await runMain('llmos', ['state', 'reset', '--sentience', '--stats', '--yes', ...flags]);
  assert.equal(done.code, 0, done.stderr);
  assert.ok(!existsSync(sentience) && !existsSync(stats));
  const list = await runMain('llmos', ['traces', 'show', 'turn on the led', '--json', ...flags]);
  assert.match(list.stdout, /"usage_count":0/, 'the run is forgotten');
});

test('state reset --estop releases a persisted e-stop, and is refused while the e-stop button is still pressed', async () => {
  const { dir, board, press } = estopPanel();
  mkdirSync(join(dir, 'traces'));
  const flags = ['--board', board, '--traces', join(dir, 'traces'), '--state', join(dir, 'state')];
  const latch = new EstopLatchFile(join(dir, 'state', 'estop.json'));
  latch.save({ engaged: true, reason: 'operator', source: 'cli', engagement: 1 });
  press(true);
  const refused = await runMain('llmos', ['state', 'reset', '--estop', '--yes', ...flags]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /ERR_ESTOP_INPUT_ACTIVE/);
  assert.equal(latch.load()?.engaged, true, 'still engaged');
  press(false);
  const released = await runMain('llmos', ['state', 'reset', '--estop', '--yes', ...flags]);
  assert.equal(released.code, 0, released.stderr);
  assert.match(released.stdout, /e-stop released/);
  assert.equal((JSON.parse(readFileSync(latch.file, 'utf8')) as { engaged: boolean }).engaged, false);
});
