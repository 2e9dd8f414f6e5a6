/**
 * The trace cache (runtime/traces/cache.ts) as a booting runtime uses it: the store serves
 * traces from it lazily and the matcher takes its persisted index. Whatever happens to the trace
 * files or to the cache between starts, a start sees the files as they are now.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { goalSignature } from '../runtime/matcher/analyze.js';
import { Matcher, type SerializedModel } from '../runtime/matcher/matcher.js';
import { TraceStore } from '../runtime/traces/store.js';
import { traceStatsFile } from '../runtime/traces/stats.js';
import { tempDir } from './helpers.js';

const GOALS = ['beep', 'drive forward 1 meter', 'turn left 90 degrees', 'sound the buzzer', 'blink the led twice', 'drive backward half a meter', 'open the gripper'];

/** One start, as runtime/boot.ts does it. */
function boot(dir: string, state: string): { store: TraceStore; matcher: Matcher; snapshot: boolean; fromCache: number; errors: number } {
  const matcher = new Matcher({ unitsFor: () => undefined });
  const store = new TraceStore({
    dir, cacheDir: join(state, 'cache'), statsFile: traceStatsFile(state), compactStats: true,
    deriver: { key: matcher.modelKey, derive: (r) => matcher.serialize(matcher.buildModel(r)), summarize: (r, d) => matcher.summarize(r, d as SerializedModel) },
  });
  const report = store.load();
  const snap = store.indexSnapshot();
  const modelOf = (r: Parameters<TraceStore['derivedFor']>[0]): SerializedModel | undefined => store.derivedFor(r) as SerializedModel | undefined;
  if (snap) matcher.loadSnapshot(snap, (d) => store.get(snap.sigs[d] as string), modelOf);
  else matcher.load(store.all(), modelOf, (r) => store.summaryFor(r));
  return { store, matcher, snapshot: snap !== undefined, fromCache: report.fromCache, errors: report.errors.length };
}

/** What a matcher answers for the goals: best candidates with scores and bound parameters. */
function answers(m: Matcher): string[] {
  return GOALS.map((g) => m.match(g, 3).candidates.map((c) => `${c.trace.goal_signature}:${c.score}:${JSON.stringify(c.params)}`).join(' '));
}

function fresh(dir: string): string[] {
  const store = new TraceStore({ dir });
  store.load();
  const m = new Matcher({ unitsFor: () => undefined });
  m.load(store.all());
  return answers(m);
}

function cacheFile(state: string): string {
  const name = readdirSync(join(state, 'cache')).find((n) => n.startsWith('traces-') && n.endsWith('.v4'));
  assert.ok(name, 'a v4 trace cache was written');
  return join(state, 'cache', name);
}

test('a cached start serves traces from the cache and the persisted index, matching as a fresh build does', () => {
  const dir = tempDir();
  const state = tempDir();
  cpSync(packagePath('traces'), dir, { recursive: true });
  const first = boot(dir, state);
  assert.equal(first.fromCache, 0);
  assert.equal(first.snapshot, false, 'nothing persisted yet');
  assert.deepEqual(answers(first.matcher), fresh(dir));
  const second = boot(dir, state);
  assert.equal(second.fromCache, first.store.size);
  assert.equal(second.snapshot, true, 'the persisted index is used as it is');
  assert.deepEqual(answers(second.matcher), fresh(dir));
  // A trace from the cache reads as its file says, with the runs counted since merged in.
  const sig = goalSignature('beep');
  const beep = second.store.get(sig);
  assert.ok(beep);
  assert.equal(beep.trace.goal_text, 'beep');
  assert.ok(beep.trace.tool_calls.length > 0);
});

test('runs counted in the journal are merged into traces read lazily from the cache', async () => {
  const dir = tempDir();
  const state = tempDir();
  cpSync(packagePath('traces'), dir, { recursive: true });
  const sig = goalSignature('beep');
  const a = boot(dir, state);
  const before = a.store.get(sig)?.trace.usage_count ?? -1;
  await a.store.recordRun(sig, true, new Date('2026-12-06T00:00:00Z'));
  await a.store.recordRun(sig, false, new Date('2026-12-06T00:00:01Z'));
  const b = boot(dir, state);
  assert.equal(b.snapshot, true);
  const t = b.store.get(sig)?.trace;
  assert.equal(t?.usage_count, before + 2);
  assert.equal(t?.last_used, '2026-12-06T00:00:01.000Z');
  assert.equal(b.store.runStats(sig)?.recent.endsWith('10'), true);
});

test('a trace edited in place, added or removed between starts is seen; the cache is rewritten', () => {
  const dir = tempDir();
  const state = tempDir();
  cpSync(packagePath('traces'), dir, { recursive: true });
  boot(dir, state);
  boot(dir, state);
  const beepFile = readdirSync(dir).find((n) => readFileSync(join(dir, n), 'utf8').includes('goal_text: beep'));
  assert.ok(beepFile, 'the shipped beep trace');
  // Edited in place (no rename: the directory's mtime does not change), same size and a new mtime.
  const path = join(dir, beepFile);
  const text = readFileSync(path, 'utf8');
  const edited = text.replace('goal_text: beep', 'goal_text: hoot');
  assert.notEqual(edited, text);
  writeFileSync(path, edited);
  const st = statSync(path);
  utimesSync(path, st.atime, new Date(st.mtimeMs + 5000));
  const afterEdit = boot(dir, state);
  assert.equal(afterEdit.snapshot, false, 'a changed directory does not use the old index');
  assert.equal(afterEdit.store.get(goalSignature('beep')), undefined);
  assert.equal(afterEdit.store.get(goalSignature('hoot'))?.trace.goal_text, 'hoot');
  assert.deepEqual(answers(afterEdit.matcher), fresh(dir));
  assert.equal(afterEdit.matcher.match('hoot', 1).candidates[0]?.trace.goal_text, 'hoot');
  // Removed.
  rmSync(path);
  const afterRemove = boot(dir, state);
  assert.equal(afterRemove.store.get(goalSignature('hoot')), undefined);
  assert.notEqual(afterRemove.matcher.match('hoot', 1).candidates[0]?.trace.goal_text, 'hoot');
  assert.deepEqual(answers(afterRemove.matcher), fresh(dir));
  // Added.
  writeFileSync(join(dir, 'chirp.yaml'), 'goal_text: chirp twice\ntool_calls: [{ name: wait, args: { ms: 1 } }]\n');
  const afterAdd = boot(dir, state);
  assert.equal(afterAdd.store.get(goalSignature('chirp twice'))?.trace.goal_text, 'chirp twice');
  assert.equal(afterAdd.matcher.match('chirp twice', 1).candidates[0]?.trace.goal_text, 'chirp twice');
  // And the next start takes all of it from the rewritten cache.
  const again = boot(dir, state);
  assert.equal(again.snapshot, true);
  assert.equal(again.fromCache, afterAdd.store.size);
  assert.deepEqual(answers(again.matcher), fresh(dir));
});

test('a torn or corrupt cache file is rebuilt, never a crash; a bad line reads the trace file instead', () => {
  const dir = tempDir();
  const state = tempDir();
  cpSync(packagePath('traces'), dir, { recursive: true });
  const expected = fresh(dir);
  boot(dir, state);
  const file = cacheFile(state);
  const whole = readFileSync(file);
  // Torn in the header.
  truncateSync(file, 40);
  const torn = boot(dir, state);
  assert.equal(torn.fromCache, 0, 'nothing trusted from a torn cache');
  assert.deepEqual(answers(torn.matcher), expected);
  // Garbage.
  writeFileSync(file, 'not a cache at all\n{');
  const garbage = boot(dir, state);
  assert.equal(garbage.fromCache, 0);
  assert.deepEqual(answers(garbage.matcher), expected);
  assert.equal(boot(dir, state).snapshot, true, 'rebuilt and used again');
  // Header intact, trace lines torn: each trace read from its file instead.
  writeFileSync(file, whole);
  truncateSync(file, whole.length - Math.floor(whole.length / 2));
  const lines = boot(dir, state);
  assert.equal(lines.snapshot, true);
  assert.deepEqual(answers(lines.matcher), expected);
  for (const r of lines.store.all()) assert.ok(r.trace.tool_calls.length > 0, `${r.file} read`);
  // Lines shifted (bytes flipped in the middle): a line that does not parse, or names another
  // trace, is never taken for this one.
  const flipped = Buffer.from(whole);
  for (let i = Math.floor(whole.length * 0.6); i < whole.length; i += 97) flipped[i] = 0x7b;
  writeFileSync(file, flipped);
  const bad = boot(dir, state);
  assert.deepEqual(answers(bad.matcher), expected);
  assert.equal(bad.errors, 0);
});

test('a directory of 1000+ traces (stat by name from inside it) sees an edit, and the working directory is left as it was', () => {
  const dir = tempDir();
  const state = tempDir();
  const n = 1100;
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `t${String(i).padStart(5, '0')}.yaml`), `goal_text: wave flag number ${i}\ntool_calls: [{ name: wait, args: { ms: ${i + 1} } }]\n`);
  const cwd = process.cwd();
  const first = boot(dir, state);
  assert.equal(first.store.size, n);
  assert.equal(process.cwd(), cwd);
  const second = boot(dir, state);
  assert.equal(second.fromCache, n);
  assert.equal(second.snapshot, true);
  assert.equal(process.cwd(), cwd);
  const path = join(dir, 't00500.yaml');
  writeFileSync(path, 'goal_text: hoist sail number 500\ntool_calls: [{ name: wait, args: { ms: 501 } }]\n');
  const st = statSync(path);
  utimesSync(path, st.atime, new Date(st.mtimeMs + 5000));
  const third = boot(dir, state);
  assert.equal(third.fromCache, n - 1);
  assert.equal(third.store.get(goalSignature('hoist sail number 500'))?.trace.tool_calls[0]?.args['ms'], 501);
  assert.equal(third.store.get(goalSignature('wave flag number 500')), undefined);
  assert.equal(third.matcher.match('hoist sail number 500', 1).candidates[0]?.trace.goal_text, 'hoist sail number 500');
  assert.equal(process.cwd(), cwd);
});
