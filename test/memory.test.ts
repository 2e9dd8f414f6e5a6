/**
 * The seed's memory hierarchy on disk: L2 session logs (one JSON line per run, rotated without
 * losing a line), L4 facts read and written through the safety gate, and structured pino logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLlmosError } from '../lib/errors.js';
import { FactStore } from '../lib/facts.js';
import { packagePath } from '../lib/paths.js';
import { SessionLog } from '../runtime/memory/session-log.js';
import { simRobot, tempDir } from './helpers.js';

const linesOf = (files: string[]): Array<{ i: number }> => files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { i: number }));

test('session log rotation loses no line: every record, in order, across the rotated files', () => {
  const dir = tempDir();
  const log = new SessionLog({ dir, maxBytes: 2048, keep: 1000 });
  for (let i = 0; i < 500; i++) log.append({ i, goal: `goal number ${i}`, pad: 'x'.repeat(i % 50) });
  const files = log.files();
  assert.ok(files.length > 5, `rotated into ${files.length} files`);
  assert.deepEqual(linesOf(files).map((r) => r.i), Array.from({ length: 500 }, (_, i) => i));
  for (const f of files) assert.ok(readFileSync(f).length <= 2048, `${f} stays under max_bytes`);
  // A second writer on the same directory (a restart) continues the same history.
  const again = new SessionLog({ dir, maxBytes: 2048, keep: 1000 });
  again.append({ i: 500 });
  assert.equal(linesOf(again.files()).at(-1)?.i, 500);
});

test('two writers on one session-log directory (a restart overlapping the old process) lose no line', () => {
  const dir = tempDir();
  const a = new SessionLog({ dir, maxBytes: 1024, keep: 1000 });
  const b = new SessionLog({ dir, maxBytes: 1024, keep: 1000 });
  for (let i = 0; i < 400; i++) (i % 2 === 0 ? a : b).append({ i, pad: 'z'.repeat(20) });
  const seen = linesOf(a.files()).map((r) => r.i).sort((x, y) => x - y);
  assert.deepEqual(seen, Array.from({ length: 400 }, (_, i) => i));
});

test('session log keeps only the newest rotated files, and what it keeps is contiguous', () => {
  const dir = tempDir();
  const log = new SessionLog({ dir, maxBytes: 1024, keep: 2 });
  for (let i = 0; i < 300; i++) log.append({ i, pad: 'y'.repeat(30) });
  const files = log.files();
  assert.equal(files.length, 3, 'two rotated files and the current one');
  const kept = linesOf(files).map((r) => r.i);
  assert.equal(kept.at(-1), 299);
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, k) => 300 - kept.length + k));
});

test('every run is recorded in the L2 session log', async () => {
  const r = await simRobot();
  try {
    await r.os.execute('wave hello');
    await r.os.execute('fly to the moon');
    const file = join(r.dir, 'state', 'logs', 'sessions', 'runs.jsonl');
    const runs = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { goal: string; mode: string; ok: boolean; llm_calls: number; error?: { code: string } });
    assert.deepEqual(runs.map((x) => [x.goal, x.ok]), [['wave hello', true], ['fly to the moon', false]]);
    assert.equal(runs[0]?.mode, 'FOLLOWER');
    assert.equal(runs[0]?.llm_calls, 0);
    assert.ok(runs[1]?.error?.code);
  } finally {
    await r.cleanup();
  }
});

test('L4 facts: written and read through the gate (audited, validated), kept across restarts', async () => {
  const r = await simRobot();
  const state = join(r.dir, 'state');
  try {
    const ctx = { source: 'llm' as const, runId: 'f' };
    await r.os.gate.call({ name: 'fact_write', args: { key: 'room.width_m', value: 4.2 } }, ctx);
    await r.os.gate.call({ name: 'fact_write', args: { key: 'room.name', value: 'lab' } }, ctx);
    const one = await r.os.gate.call({ name: 'fact_read', args: { key: 'room.width_m' } }, ctx);
    assert.equal((one.value as { value: number }).value, 4.2);
    const all = await r.os.gate.call({ name: 'fact_read', args: { prefix: 'room.' } }, ctx);
    assert.deepEqual((all.value as { facts: Array<{ key: string }> }).facts.map((f) => f.key), ['room.name', 'room.width_m']);
    await assert.rejects(r.os.gate.call({ name: 'fact_write', args: { key: 'Bad Key!', value: 1 } }, ctx), (e: unknown) => isLlmosError(e) && /key/.test(e.message));
    await r.os.gate.call({ name: 'fact_write', args: { key: 'room.name', value: null } }, ctx);
    const stored = JSON.parse(readFileSync(join(state, 'facts.json'), 'utf8')) as Record<string, { value: unknown }>;
    assert.deepEqual(Object.keys(stored), ['room.width_m']);
    assert.equal(new FactStore(join(state, 'facts.json')).get('room.width_m')?.value, 4.2, 'a new process reads what was stored');
    await r.os.shutdown('test');
    const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8');
    assert.match(audit, /"tool":"fact_write".*"decision":"allow"/);
  } finally {
    await r.cleanup();
  }
});

test('a damaged facts store is reported by file and key, never silently trimmed', () => {
  const file = join(tempDir(), 'facts.json');
  writeFileSync(file, JSON.stringify({ 'room.width_m': { value: 4.2 }, broken: { value: { nested: true } } }));
  const store = new FactStore(file);
  assert.throws(() => store.set('x', 1), (e: unknown) => isLlmosError(e) && e.code === 'ERR_STATE' && /fact "broken"/.test(e.message));
  assert.match(readFileSync(file, 'utf8'), /broken/, 'the file is untouched');
  writeFileSync(file, '[1, 2]');
  assert.throws(() => new FactStore(file).get('a'), /must be a JSON object/);
});

test('the facts store is bounded', () => {
  const store = new FactStore(join(tempDir(), 'facts.json'), 2);
  store.set('a', 1);
  store.set('b', 2);
  store.set('a', 3);
  assert.throws(() => store.set('c', 3), (e: unknown) => isLlmosError(e) && e.code === 'ERR_FACTS_FULL');
});

test('--log-format json: structured pino lines on stderr', () => {
  // A broken trace file is worth a warning: that is the line to look at.
  const traces = tempDir();
  writeFileSync(join(traces, 'broken.yaml'), 'goal_text: [unclosed\n');
  const res = spawnSync(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--log-format', 'json', '--log-level', 'info', '--traces', traces, '--state', tempDir(), 'wave hello'], { encoding: 'utf8' });
  const lines = res.stderr.split('\n').filter((l) => l.startsWith('{'));
  assert.ok(lines.length > 0, `JSON log lines on stderr: ${res.stderr.slice(0, 300)}`);
  const first = JSON.parse(lines[0] as string) as { level: number; time: string; msg: string; pid: number };
  assert.equal(typeof first.level, 'number');
  assert.equal(typeof first.msg, 'string');
  assert.equal(first.pid, res.pid);
  assert.match(lines.join('\n'), /broken\.yaml/);
});
