/**
 * `llmos export mcap --run ID`: a run of the session log (steps, events, sentience, sensor
 * readings) with the writes it made in its sim log, read back with @mcap/core's reader. The run:
 * `read the distance`, then `drive forward 3 meters` that the keep-distance reflex stops, on the
 * sim board with --sim-world and virtual time, as a user runs them.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { McapStreamReader, type TypedMcapRecord } from '@mcap/core';
import { packagePath } from '../lib/paths.js';
import { readSimLog, runBin, tempDir } from './helpers.js';

interface Msg { topic: string; logTime: bigint; body: Record<string, unknown> }

function readMcap(file: string): { messages: Msg[]; metadata: Map<string, string> | undefined } {
  const reader = new McapStreamReader();
  reader.append(readFileSync(file));
  const recs: TypedMcapRecord[] = [];
  for (let rec = reader.nextRecord(); rec; rec = reader.nextRecord()) recs.push(rec);
  assert.ok(reader.done(), 'the file ends with its footer and magic');
  const channels = new Map<number, string>();
  const schemas = new Map<number, string>();
  let metadata: Map<string, string> | undefined;
  const messages: Msg[] = [];
  for (const r of recs) {
    if (r.type === 'Schema') { assert.equal(r.encoding, 'jsonschema'); schemas.set(r.id, r.name); }
    if (r.type === 'Channel') { assert.ok(schemas.has(r.schemaId), `channel ${r.topic} has its schema`); assert.equal(r.messageEncoding, 'json'); channels.set(r.id, r.topic); }
    if (r.type === 'Metadata' && r.name === 'llmos.run') metadata = r.metadata;
    if (r.type === 'Message') messages.push({ topic: channels.get(r.channelId) ?? '?', logTime: r.logTime, body: JSON.parse(new TextDecoder().decode(r.data)) as Record<string, unknown> });
  }
  return { messages, metadata };
}

interface RunLine { id: string; goal: string; started_at: string; sim_log: { file: string; t0: number }; timeline: { steps: unknown[]; sensors: unknown[]; sentience: unknown[]; events: Array<{ kind: string }>; writes: number } }

async function reflexRun(): Promise<{ dir: string; state: string; simLog: string; runs: RunLine[] }> {
  const dir = tempDir('llmos-mcap-run-');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const simLog = join(dir, 'sim.jsonl');
  const world = join(dir, 'world.yaml');
  writeFileSync(world, 'room: { width_m: 5, depth_m: 5 }\nstart: { x: 0, y: 0, heading_deg: 0 }\n');
  const state = join(dir, 'state');
  const r = await runBin('run-follower.js', ['--sim-time', 'virtual', '--sim-world', world, '--json', '--traces', join(dir, 'traces'), '--state', state, '--sim-log', simLog, '-'], {
    cwd: dir, input: 'read the distance\ndrive forward 3 meters\n',
  });
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
  assert.equal(lines[1]?.error?.code, 'ERR_SAFETY_REFLEX', r.stdout + r.stderr);
  const runs = readFileSync(join(state, 'logs', 'sessions', 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunLine);
  return { dir, state, simLog, runs };
}

test('export mcap --run: the reflex-stopped drive with its writes, steps, readings, events and sentience on one time origin', async () => {
  const { dir, state, simLog, runs } = await reflexRun();
  assert.equal(runs.length, 2);
  const [read, drive] = runs as [RunLine, RunLine];
  assert.notEqual(read.id, drive.id, 'each run has its own id');

  const list = await runBin('llmos.js', ['export', 'mcap', '--list', '--state', state, '--json'], { cwd: dir });
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((JSON.parse(list.stdout) as { runs: Array<{ id: string }> }).runs.map((r) => r.id), [read.id, drive.id]);

  const out = join(dir, 'drive.mcap');
  const r = await runBin('llmos.js', ['export', 'mcap', '--run', drive.id, '--state', state, '--out', out, '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const { messages, metadata } = readMcap(out);
  assert.equal(metadata?.get('id'), drive.id);
  assert.equal(metadata?.get('goal'), 'drive forward 3 meters');
  const times = messages.map((m) => m.logTime);
  assert.deepEqual(times, [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'in time order');
  const origin = BigInt(Date.parse(drive.started_at)) * 1_000_000n;
  assert.ok(messages.every((m) => m.logTime >= origin), 'times count from the run\'s wall-clock start');

  // Every write of the sim log (this process made them all during the drive), in order.
  const writes = readSimLog(simLog).filter((w) => typeof w.actuator === 'string');
  assert.ok(writes.length > 10, 'the drive wrote');
  assert.equal(drive.timeline.writes, writes.length);
  const onActuators = messages.filter((m) => m.topic.startsWith('/actuators/'));
  assert.equal(onActuators.length, writes.length, 'one message per sim-log write');
  for (const [i, w] of writes.entries()) {
    const m = onActuators[i];
    assert.equal(m?.topic, `/actuators/${w.actuator}${w.channel ? `/${w.channel}` : ''}`);
    assert.equal(m?.body['sim_t'], w.t);
    assert.deepEqual(m?.body['value'], w.value);
  }
  // The one step, failed by the reflex, with its start and end.
  const steps = messages.filter((m) => m.topic === '/steps');
  assert.equal(steps.length, 1);
  assert.equal(steps[0]?.body['tool'], 'drive');
  assert.equal(steps[0]?.body['ok'], false);
  assert.equal(steps[0]?.body['code'], 'ERR_SAFETY_REFLEX');
  assert.ok((steps[0]?.body['t_end'] as number) > (steps[0]?.body['t'] as number), 'the drive took time');
  // The reflex polled the range finder while it drove: every reading is on /sensors/distance.
  const distance = messages.filter((m) => m.topic === '/sensors/distance');
  assert.equal(distance.length, drive.timeline.sensors.filter((s) => (s as { sensor: string }).sensor === 'distance').length);
  assert.ok(distance.length > 5, `readings during the drive: ${distance.length}`);
  const values = distance.map((m) => m.body['value'] as number);
  assert.ok(values[0]! > values.at(-1)!, `the wall came closer: ${values[0]} -> ${values.at(-1)}`);
  assert.ok(messages.some((m) => m.topic === '/events' && m.body['kind'] === 'reflex'), 'the reflex is an event');
  const sentience = messages.filter((m) => m.topic === '/sentience');
  assert.equal(sentience.length, drive.timeline.sentience.length);
  assert.ok(sentience.length >= 2, 'the state at the start and its change after the reflex');

  // The read: one step, one reading (2.5 m from the wall), no writes.
  const out2 = join(dir, 'read.mcap');
  const r2 = await runBin('llmos.js', ['export', 'mcap', '--run', read.id, '--state', state, '--out', out2, '--json'], { cwd: dir });
  assert.equal(r2.code, 0, r2.stderr);
  const m2 = readMcap(out2).messages;
  assert.equal(m2.filter((m) => m.topic === '/steps').length, 1);
  assert.deepEqual(m2.filter((m) => m.topic === '/sensors/distance').map((m) => m.body['value']), [2.5]);
  assert.equal(m2.filter((m) => m.topic.startsWith('/actuators/')).length, 0, 'the drive\'s writes are not the read\'s');
});

test('export mcap --run: unknown ids, torn and damaged session-log lines, old lines and bad --out are clear errors or warnings; nothing half-written', async () => {
  const { dir, state, runs } = await reflexRun();
  const sessions = join(state, 'logs', 'sessions', 'runs.jsonl');
  // An old line (no id), a damaged record, and a torn last line.
  appendFileSync(sessions, `${JSON.stringify({ ts: new Date().toISOString(), goal: 'old', ok: true, steps: 1, duration_ms: 3 })}\n{"id":"bad-1","started_at":"yesterday","goal":"x","duration_ms":1}\n{"id":"torn`);
  const list = await runBin('llmos.js', ['export', 'mcap', '--list', '--state', state, '--json'], { cwd: dir });
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { runs: unknown[]; without_id: number; skipped_lines: number };
  assert.deepEqual([listed.runs.length, listed.without_id, listed.skipped_lines], [2, 1, 2]);
  assert.match(list.stderr, /runs\.jsonl:5: not a JSON line \(torn write\)/);
  assert.match(list.stderr, /runs\.jsonl:4: not a run record: \/started_at must match/);

  const ok = await runBin('llmos.js', ['export', 'mcap', '--run', 'last', '--state', state, '--out', join(dir, 'last.mcap'), '--json'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { run: string }).run, runs[1]?.id, '"last" is the newest valid run');

  const cases: Array<[string[], RegExp]> = [
    [['--run', 'no-such-run', '--json'], /ERR_RUN_UNKNOWN: --run no-such-run: no such run; the session log in .* holds 2 runs/],
    [['--run', 'bad-1', '--json'], /ERR_USAGE: run bad-1: .*runs\.jsonl:4: not a run record/],
    [['--run', '../../etc/passwd', '--json'], /ERR_USAGE: --run "..\/..\/etc\/passwd": not a run id/],
    [['--run', runs[0]!.id, '--out', join(dir, 'missing-dir', 'x.mcap')], /ERR_USAGE: --out .*x\.mcap: its directory does not exist/],
    [['--run', runs[0]!.id], /--out FILE is required/], // (no --out added: two arguments)
    [['--run', runs[0]!.id, '--sim-log', join(dir, 'nope.jsonl')], /nope\.jsonl: no such sim log/],
  ];
  for (const [args, re] of cases) {
    const out = args.includes('--out') || args.length === 2 ? [] : ['--out', join(dir, 'never.mcap')];
    const bad = await runBin('llmos.js', ['export', 'mcap', ...args, '--state', state, ...out], { cwd: dir });
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, re, args.join(' '));
  }
  assert.ok(!existsSync(join(dir, 'never.mcap')), 'nothing written');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp')), [], 'no temporary file left behind');
  const none = await runBin('llmos.js', ['export', 'mcap', '--run', 'x1', '--state', join(dir, 'empty'), '--out', join(dir, 'n.mcap')], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /ERR_RUN_UNKNOWN: --run x1: no such run; there is no session log/);

  // A sim log written over by a later process: the run still exports, with a warning.
  writeFileSync(runs[1]!.sim_log.file, '{"t":0,"actuator":"led","value":true}\n');
  const over = await runBin('llmos.js', ['export', 'mcap', '--run', runs[1]!.id, '--state', state, '--out', join(dir, 'over.mcap'), '--json'], { cwd: dir });
  assert.equal(over.code, 0, over.stderr);
  assert.match(over.stderr, /warning: the sim log holds \d+ writes? in run .* the run made \d+/);
  assert.equal(readMcap(join(dir, 'over.mcap')).messages.filter((m) => m.topic === '/steps').length, 1, 'the steps are still there');
});
