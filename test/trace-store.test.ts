import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { goalSignature, normalizeGoal } from '../runtime/matcher/analyze.js';
import { TraceStore } from '../runtime/traces/store.js';
import { tempDir } from './helpers.js';

test('goal_signature is the first 16 hex chars of sha256 of the normalized goal', () => {
  assert.equal(normalizeGoal('  Drive  FORWARD, 1 meter!! '), 'drive forward 1 meter');
  assert.equal(goalSignature('Drive forward, 1 meter!'), goalSignature('drive forward 1 meter'));
  // sha256("drive forward 1 meter")
  assert.equal(goalSignature('drive forward 1 meter'), '4334f89dc3006a1e');
  assert.match(goalSignature('anything'), /^[0-9a-f]{16}$/);
});

test('the shipped traces all load and validate (at least 15, including the upstream edge format)', () => {
  const store = new TraceStore({ dir: packagePath('traces') });
  const report = store.load();
  assert.deepEqual(report.errors, []);
  assert.deepEqual(report.warnings, []);
  assert.ok(report.loaded >= 15, `${report.loaded} traces`);
  assert.ok(store.all().some((r) => r.format === 'edge'));
});

test('a malformed trace is reported with its file and failing field; the rest load', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'good.yaml'), 'goal_text: beep\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  writeFileSync(join(dir, 'bad-name.yaml'), 'goal_text: x\ntool_calls: [{ name: 3, args: {} }]\n');
  writeFileSync(join(dir, 'bad-yaml.yaml'), 'goal_text: [\n');
  writeFileSync(join(dir, 'no-calls.yaml'), 'goal_text: x\ntool_calls: []\n');
  writeFileSync(join(dir, 'typo.yaml'), 'goal_text: y\ntool_calls: [{ name: wait, arguments: { ms: 1 } }]\n');
  writeFileSync(join(dir, 'rate.yaml'), 'goal_text: z\nsuccess_rate: 2\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  const store = new TraceStore({ dir });
  const report = store.load();
  assert.equal(report.loaded, 1);
  const byFile = Object.fromEntries(report.errors.map((e) => [e.file.split('/').pop(), e.message]));
  assert.match(byFile['bad-name.yaml'] ?? '', /bad-name\.yaml: \/tool_calls\/0\/name: must be string/);
  assert.match(byFile['bad-yaml.yaml'] ?? '', /bad-yaml\.yaml:\d+:\d+: invalid YAML/);
  assert.match(byFile['no-calls.yaml'] ?? '', /\/tool_calls: must NOT have fewer than 1 items/);
  assert.match(byFile['typo.yaml'] ?? '', /\/tool_calls\/0\/arguments: is not a known field/);
  assert.match(byFile['rate.yaml'] ?? '', /\/success_rate: must be <= 1/);
  assert.ok(report.errors.every((e) => e.code === 'ERR_TRACE_INVALID'));
});

test('the upstream edge format imports: trace_id, steps[].tool_call, validation, on_error, preconditions', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'edge.yaml'), [
    'trace_id: research-v1', 'goal_signature: "fetch the status and report"', 'success_rate: 0.9', 'usage_count: 10',
    'preconditions:', '  - { condition: "Output directory exists", validation_type: directory_exists, parameters: { path: out } }',
    'steps:',
    '  - step: 2', '    tool_call: { tool: Bash, parameters: { command: "echo done" } }',
    '  - step: 1', '    description: first', '    tool_call: { tool: Write, parameters: { file_path: a.txt, content: hi } }',
    '    validation: [{ check: written, type: file_exists, parameters: { path: a.txt } }]',
    '    on_error: { action: retry, retry_count: 2 }',
  ].join('\n'));
  const store = new TraceStore({ dir });
  const report = store.load();
  assert.deepEqual(report.errors, []);
  const [rec] = store.all();
  assert.equal(rec?.format, 'edge');
  assert.equal(rec?.trace.goal_text, 'fetch the status and report');
  assert.equal(rec?.trace.trace_id, 'research-v1');
  assert.deepEqual(rec?.trace.tool_calls.map((c) => c.name), ['Write', 'Bash'], 'ordered by step');
  assert.deepEqual(rec?.trace.tool_calls[0]?.on_error, { action: 'retry', retry_count: 2 });
  assert.equal((rec?.trace.tool_calls[0]?.check as Array<{ type: string }>)[0]?.type, 'file_exists');
  assert.equal(rec?.trace.preconditions?.[0]?.validation_type, 'directory_exists');
  assert.equal(rec?.trace.success_rate, 0.9);
});

test('recordRun counts in the state directory and never writes the trace file; failures lower the success rate', async () => {
  const dir = tempDir();
  const state = tempDir();
  const text = '# my comment\ngoal_text: beep\nsuccess_rate: 1\nusage_count: 3   # three uses\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n';
  writeFileSync(join(dir, 't.yaml'), text);
  const statsFile = join(state, 'trace-stats.jsonl');
  const store = new TraceStore({ dir, statsFile });
  store.load();
  const sig = goalSignature('beep');
  await store.recordRun(sig, true, new Date('2026-11-24T00:00:00Z'));
  await store.recordRun(sig, false, new Date('2026-11-24T00:00:01Z'));
  assert.equal(readFileSync(join(dir, 't.yaml'), 'utf8'), text, 'the trace file is data: byte for byte unchanged');
  assert.deepEqual(readdirSync(dir), ['t.yaml'], 'no temp files left behind');
  const t = store.get(sig)?.trace;
  assert.equal(t?.usage_count, 5);
  assert.equal(t?.success_count, 4);
  assert.equal(t?.success_rate, 0.8);
  assert.equal(t?.last_used, '2026-11-24T00:00:01.000Z');
  assert.equal(store.runStats(sig)?.recent, '10');
  const again = new TraceStore({ dir, statsFile });
  again.load();
  assert.equal(again.get(sig)?.trace.usage_count, 5, 'merged with the file on load');
  assert.equal(again.get(sig)?.trace.success_rate, 0.8);
  assert.equal(again.get(sig)?.trace.last_used, '2026-11-24T00:00:01.000Z');
});

test('concurrent updates to one trace are serialised: no lost increments', async () => {
  const dir = tempDir();
  const statsFile = join(tempDir(), 'trace-stats.jsonl');
  writeFileSync(join(dir, 't.yaml'), 'goal_text: beep\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  const store = new TraceStore({ dir, statsFile });
  store.load();
  const sig = goalSignature('beep');
  await Promise.all(Array.from({ length: 20 }, () => store.recordRun(sig, true, new Date())));
  const fresh = new TraceStore({ dir, statsFile });
  fresh.load();
  assert.equal(fresh.get(sig)?.trace.usage_count, 20);
});

test('the statistics journal survives a torn line and is compacted by its owner at start', async () => {
  const dir = tempDir();
  const statsFile = join(tempDir(), 'trace-stats.jsonl');
  writeFileSync(join(dir, 't.yaml'), 'goal_text: beep\nusage_count: 2\nsuccess_count: 2\nsuccess_rate: 1\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  const sig = goalSignature('beep');
  const store = new TraceStore({ dir, statsFile });
  store.load();
  for (let i = 0; i < 5; i++) await store.recordRun(sig, i !== 2, new Date(Date.UTC(2026, 10, 24, 0, 0, i)));
  // A crash in the middle of a line: the next start skips it and keeps every whole line.
  appendFileSync(statsFile, '{"s":"' + sig + '","b":[2,2],"ok":1,"t":"2026-11-2');
  const reader = new TraceStore({ dir, statsFile });
  reader.load();
  assert.equal(reader.get(sig)?.trace.usage_count, 7);
  assert.equal(readFileSync(statsFile, 'utf8').split('\n').filter(Boolean).length, 6, 'a reader does not rewrite the journal');
  const owner = new TraceStore({ dir, statsFile, compactStats: true });
  owner.load();
  assert.equal(owner.get(sig)?.trace.usage_count, 7);
  assert.equal(owner.get(sig)?.trace.success_count, 6);
  assert.equal(owner.runStats(sig)?.recent, '11011');
  const lines = readFileSync(statsFile, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 1, 'one line per trace after compaction');
  await owner.recordRun(sig, true, new Date('2026-11-25T00:00:00Z'));
  const after = new TraceStore({ dir, statsFile });
  after.load();
  assert.equal(after.get(sig)?.trace.usage_count, 8);
  assert.equal(after.get(sig)?.trace.last_used, '2026-11-25T00:00:00.000Z');
  // The file's own statistics changed (an import replaced it): they count again, not the old runs.
  writeFileSync(join(dir, 't.yaml'), 'goal_text: beep\nusage_count: 40\nsuccess_count: 30\nsuccess_rate: 0.75\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  const replaced = new TraceStore({ dir, statsFile });
  replaced.load();
  assert.equal(replaced.get(sig)?.trace.usage_count, 40);
  assert.equal(replaced.get(sig)?.trace.success_rate, 0.75);
});

test('the parse cache is reused while files are unchanged and refreshed when one changes', () => {
  const dir = tempDir();
  const cache = tempDir();
  cpSync(packagePath('traces'), dir, { recursive: true });
  let derives = 0;
  const deriver = { key: 'k1', derive: () => { derives++; return { n: derives }; } };
  const first = new TraceStore({ dir, cacheDir: cache, deriver }).load();
  assert.equal(first.fromCache, 0);
  const n = derives;
  const second = new TraceStore({ dir, cacheDir: cache, deriver }).load();
  assert.equal(second.fromCache, first.loaded + first.errors.length);
  assert.equal(derives, n, 'derived data came from the cache');
  writeFileSync(join(dir, 'beep.yaml'), 'goal_text: beep loudly\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  const s3 = new TraceStore({ dir, cacheDir: cache, deriver });
  const third = s3.load();
  assert.equal(third.fromCache, first.loaded - 1);
  assert.ok(s3.get(goalSignature('beep loudly')));
  const s4 = new TraceStore({ dir, cacheDir: cache, deriver: { key: 'k2', derive: () => 'new' } });
  s4.load();
  assert.equal(s4.derived(goalSignature('beep loudly')), 'new', 'a new deriver key recomputes');
});

test('save writes a new trace atomically with a valid signature and refuses an invalid one', async () => {
  const dir = tempDir();
  const store = new TraceStore({ dir });
  store.load();
  const rec = await store.save({ goal_signature: '', goal_text: 'spin the winch', success_rate: 1, usage_count: 1, tool_calls: [{ name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 500 } }] }, 'learned by a test');
  assert.equal(rec.trace.goal_signature, goalSignature('spin the winch'));
  const text = readFileSync(rec.file, 'utf8');
  assert.match(text, /^# learned by a test/);
  await assert.rejects(store.save({ goal_signature: '', goal_text: '', success_rate: 1, usage_count: 0, tool_calls: [] }), /ERR_TRACE_INVALID|goal_text/);
  const reloaded = new TraceStore({ dir });
  assert.equal(reloaded.load().loaded, 1);
});
