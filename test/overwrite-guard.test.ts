/**
 * Outputs never replace a file this runtime did not write: `--sim-log /etc/passwd` (as root on a
 * board) truncated it before this guard; `llmos plot --out traces/beep.yaml` overwrote a trace.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RealClock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { assertReplaceable } from '../lib/usable-path.js';
import { WriteRecorder } from '../drivers/recorder.js';
import { packagePath } from '../lib/paths.js';
import { runBin, tempDir } from './helpers.js';

const refused = (e: unknown): boolean => e instanceof LlmosError && e.code === 'ERR_PATH_UNUSABLE' && /exists and is not/.test(e.message);

test('an output replaces only an empty file or its own kind', () => {
  const dir = tempDir();
  const notes = join(dir, 'notes.txt');
  writeFileSync(notes, 'root:x:0:0:root:/root:/bin/bash\n');
  for (const kind of ['sim log', 'SVG plot', 'MCAP file'] as const) assert.throws(() => assertReplaceable(notes, '--out', kind), refused);
  const log = join(dir, 'sim.jsonl');
  writeFileSync(log, '{"t":0,"actuator":"led","value":true}\n');
  assert.doesNotThrow(() => assertReplaceable(log, '--sim-log', 'sim log'));
  assert.throws(() => assertReplaceable(log, '--out', 'SVG plot'), refused, 'a plot does not replace the sim log it was made from');
  const svg = join(dir, 'p.svg');
  writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
  assert.doesNotThrow(() => assertReplaceable(svg, '--out', 'SVG plot'));
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  assert.doesNotThrow(() => assertReplaceable(empty, '--out', 'MCAP file'));
  assert.doesNotThrow(() => assertReplaceable(join(dir, 'new.mcap'), '--out', 'MCAP file'));
});

test('the recorder refuses to truncate a file that is not a sim log; the file is untouched', () => {
  const file = join(tempDir(), 'trace.yaml');
  writeFileSync(file, 'goal_text: beep\n');
  assert.throws(() => new WriteRecorder(new RealClock(), file), refused);
  assert.equal(readFileSync(file, 'utf8'), 'goal_text: beep\n');
});

test('run-follower --sim-log and llmos plot/export --out on a foreign file: exit 2 / 1, the file unchanged, nothing run', async () => {
  const dir = tempDir();
  const precious = join(dir, 'passwd');
  writeFileSync(precious, 'root:x:0:0:root:/root:/bin/bash\n');
  const run = await runBin('run-follower.js', ['--standalone', '--state', join(dir, 'state'), '--sim-time', 'virtual', '--sim-log', precious, '--json', 'beep']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /ERR_PATH_UNUSABLE: sim log .*passwd: exists and is not a sim log/);
  assert.equal(run.stdout, '', 'no goal ran');
  const log = join(dir, 'run.jsonl');
  const ok = await runBin('run-follower.js', ['--standalone', '--traces', packagePath('traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--sim-log', log, 'beep']);
  assert.equal(ok.code, 0, ok.stderr);
  for (const args of [['plot', '--sim-log', log, '--out', precious], ['export', 'mcap', '--sim-log', log, '--out', precious]]) {
    const r = await runBin('llmos.js', args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ERR_PATH_UNUSABLE: --out .*passwd: exists and is not an? (SVG plot|MCAP file)/);
  }
  assert.equal(readFileSync(precious, 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n');
});
