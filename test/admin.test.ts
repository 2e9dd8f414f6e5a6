/** `llmos` end to end: the bundled binary against copies of the shipped traces in temp dirs. */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { runBin, tempDir , type CliRun } from './helpers.js';
import { runMain } from './run-main.js';

const SHIPPED = readdirSync(packagePath('traces')).filter((n) => n.endsWith('.yaml')).sort();

function run(args: string[], cwd: string): Promise<CliRun> {
  return runMain('llmos', args, { cwd });
}

interface Board { dir: string; traces: string; crystallized: string; state: string; flags: string[] }

/** A private copy of the shipped traces and crystallized functions: the repo's stay untouched. */
function board(): Board {
  const dir = tempDir('llmos-admin-');
  const traces = join(dir, 'traces');
  const crystallized = join(dir, 'crystallized');
  const state = join(dir, 'state');
  cpSync(packagePath('traces'), traces, { recursive: true });
  cpSync(packagePath('crystallized'), crystallized, { recursive: true });
  return { dir, traces, crystallized, state, flags: ['--traces', traces, '--crystallized', crystallized, '--state', state] };
}

const listing = (d: string): string[] => (existsSync(d) ? readdirSync(d).sort() : []);

test('help: top level and per subcommand exit 0; no command exits 2', async () => {
  const dir = tempDir();
  // The bundled launcher, spawned; the rest of this file runs the command in-process.
  const top = await runBin('llmos.js', ['--help'], { cwd: dir });
  assert.equal(top.code, 0);
  for (const cmd of ['traces', 'board check', 'state show', 'crystallize', 'bench', 'bundle export']) assert.ok(top.stdout.includes(`llmos ${cmd}`), cmd);
  for (const cmd of ['traces', 'bundle', 'board', 'state']) {
    const r = await run([cmd, '--help'], dir);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, /Usage:/, cmd);
    assert.match(r.stdout, /--json/, cmd);
  }
  assert.equal((await run([], dir)).code, 2);
});

test('traces list: a table of every trace, and --json with mode hints', async () => {
  const b = board();
  // Runs are counted in the state directory (the shipped traces carry no statistics): five beeps
  // make it ready to crystallize in the merged view.
  const runs = await runMain('run-follower', ['--traces', b.traces, '--state', b.state, '--sim-time', 'virtual', '-'], { cwd: b.dir, input: 'beep\n'.repeat(5) });
  assert.equal(runs.code, 0, runs.stderr);
  const r = await run(['traces', 'list', ...b.flags], b.dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0] as string, /^name\s+goal\s+usage\s+success\s+mode\s+last used$/);
  assert.equal(lines.length, SHIPPED.length + 2);
  assert.match(r.stdout, /drive-square\.yaml\s+drive in a square\s+\d+\s+100%\s+crystallized/);

  const j = await run(['traces', 'list', '--json', ...b.flags], b.dir);
  assert.equal(j.code, 0);
  const out = JSON.parse(j.stdout) as { traces: Array<{ name: string; mode: string; hint: string; goal_signature: string; usage_count: number }>; errors: unknown[] };
  assert.deepEqual(out.traces.map((t) => t.name).sort(), SHIPPED);
  assert.deepEqual(out.errors, []);
  const square = out.traces.find((t) => t.name === 'drive-square.yaml');
  assert.equal(square?.mode, 'CRYSTALLIZED');
  const beep = out.traces.find((t) => t.name === 'beep.yaml');
  assert.equal(beep?.mode, 'FOLLOWER');
  assert.ok((beep?.usage_count ?? 0) >= 5 && beep?.hint.includes('ready to crystallize'), beep?.hint);
});

test('traces show: by file name, by signature and by goal; an unknown one exits 1', async () => {
  const b = board();
  const byName = await run(['traces', 'show', 'drive-square', ...b.flags], b.dir);
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /signature:\s+2abd5f8ea8a9d856/);
  assert.match(byName.stdout, /crystallized \(.*drive-in-a-square-2abd5f8e\.ts\)/);
  assert.ok(byName.stdout.includes(readFileSync(join(b.traces, 'drive-square.yaml'), 'utf8').trimEnd()), 'prints the file');
  const bySig = await run(['traces', 'show', '2abd5f8ea8a9d856', '--json', ...b.flags], b.dir);
  assert.equal(bySig.code, 0);
  const j = JSON.parse(bySig.stdout) as { goal_text: string; trace: { tool_calls: unknown[] } };
  assert.equal(j.goal_text, 'drive in a square');
  assert.equal(j.trace.tool_calls.length, 8);
  const edge = await run(['traces', 'show', 'ask the controller for its status', '--json', ...b.flags], b.dir);
  assert.equal((JSON.parse(edge.stdout) as { format: string }).format, 'edge');
  const missing = await run(['traces', 'show', 'fly to the moon', ...b.flags], b.dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ERR_TRACE_NOT_FOUND/);
});

test('traces validate: a broken file is named with its field and exits 1; the rest are ok', async () => {
  const b = board();
  const clean = await run(['traces', 'validate', ...b.flags], b.dir);
  assert.equal(clean.code, 0, clean.stdout);
  assert.match(clean.stdout, new RegExp(`${SHIPPED.length + 1} ok, 0 invalid`)); // + the crystallized function
  writeFileSync(join(b.traces, 'broken.yaml'), 'goal_text: broken\ntool_calls:\n  - { name: drive, args: { distance_m: 1 }, speed: 2 }\n');
  const r = await run(['traces', 'validate', ...b.flags], b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL {2}broken\.yaml\n.*ERR_TRACE_INVALID: .*broken\.yaml: \/tool_calls\/0\/speed: is not a known field/);
  assert.match(r.stdout, /ok {4}drive-square\.yaml/);
  const j = await run(['traces', 'validate', b.traces, '--json', ...b.flags], b.dir);
  assert.equal(j.code, 1);
  const out = JSON.parse(j.stdout) as { ok: boolean; invalid: number; checked: number; files: Array<{ file: string; ok: boolean; error?: { message: string } }> };
  assert.equal(out.ok, false);
  assert.equal(out.invalid, 1);
  assert.equal(out.checked, SHIPPED.length + 1); // a directory argument checks that directory only
  assert.match(out.files.find((f) => !f.ok)?.error?.message ?? '', /\/tool_calls\/0\/speed/);
});

test('traces validate of many files reports progress on stderr, not stdout', async () => {
  const dir = tempDir();
  const many = join(dir, 'many');
  mkdirSync(many);
  for (let i = 0; i < 60; i++) writeFileSync(join(many, `t${i}.yaml`), `goal_text: say hello number ${i} loudly\ntool_calls:\n  - { name: wait, args: { ms: 10 } }\n`);
  const r = await run(['traces', 'validate', many, '--json'], dir);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stderr, /validate 60\/60/);
  assert.equal((JSON.parse(r.stdout) as { checked: number }).checked, 60);
});

const EDGE = `trace_id: blink-twice-v1
goal: blink the led twice
success_rate: 1.0
steps:
  - step: 2
    tool_call: { tool: digital_write, parameters: { actuator: led, value: false } }
  - step: 1
    tool_call: { tool: digital_write, parameters: { actuator: led, value: true } }
`;

const MARKDOWN = `---
goal_text: nod the arm
success_rate: 1
usage_count: 0
tags: [gesture]
---
# Nod the arm

Moves the arm down and back up. Prose is for people; only the block below is read.

\`\`\`yaml
- { name: servo_move, args: { actuator: arm, angle: 60 } }
- { name: servo_move, args: { actuator: arm, angle: 90 } }
\`\`\`
`;

const MARKDOWN_EDGE = `---
trace_id: raise-winch-v2
goal_signature: pay out the winch
---
\`\`\`yaml
steps:
  - step: 1
    tool_call: { tool: motor_set, parameters: { actuator: winch, speed: -0.3, duration_ms: 500 } }
\`\`\`
`;

test('traces import: a bad file refuses the whole import and writes nothing', async () => {
  const b = board();
  const src = tempDir();
  writeFileSync(join(src, 'blink.yaml'), EDGE);
  writeFileSync(join(src, 'nod.md'), MARKDOWN);
  writeFileSync(join(src, 'bad.md'), MARKDOWN.replace('name: servo_move, args: { actuator: arm, angle: 60 }', 'tool: servo_move'));
  const before = listing(b.traces);
  const r = await run(['traces', 'import', join(src, 'blink.yaml'), join(src, 'nod.md'), join(src, 'bad.md'), ...b.flags], b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_TRACE_INVALID: refused, nothing written/);
  assert.match(r.stderr, /bad\.md: \/tool_calls\/0\/name: is required/);
  assert.deepEqual(listing(b.traces), before);

  const both = `---\ngoal_text: x\ntool_calls: []\n---\n\`\`\`yaml\n- { name: wait, args: { ms: 1 } }\n\`\`\`\n`;
  writeFileSync(join(src, 'both.md'), both);
  const dup = await run(['traces', 'import', join(src, 'both.md'), ...b.flags], b.dir);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /both\.md: \/tool_calls is given both in the front matter and in the yaml block/);
  assert.deepEqual(listing(b.traces), before);
});

test('traces import: edge and markdown traces become core traces that load; identical ones are skipped, different ones refused', async () => {
  const b = board();
  const src = tempDir();
  writeFileSync(join(src, 'blink.yaml'), EDGE);
  writeFileSync(join(src, 'nod.md'), MARKDOWN);
  writeFileSync(join(src, 'winch.md'), MARKDOWN_EDGE);
  const r = await run(['traces', 'import', '--json', join(src, 'blink.yaml'), join(src, 'nod.md'), join(src, 'winch.md'), ...b.flags], b.dir);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { written: number; files: Array<{ format: string; file: string; goal_text: string }> };
  assert.equal(out.written, 3);
  assert.deepEqual(out.files.map((f) => f.format), ['edge', 'markdown', 'markdown']);
  assert.deepEqual(listing(b.traces).length, SHIPPED.length + 3);

  // The imported files are ordinary core traces: the steps in order, the edge order fixed.
  const blink = await run(['traces', 'show', 'blink the led twice', '--json', ...b.flags], b.dir);
  const t = (JSON.parse(blink.stdout) as { format: string; trace: { origin: string; tool_calls: Array<{ name: string; args: { value: boolean } }> } });
  assert.equal(t.format, 'core');
  assert.equal(t.trace.origin, 'imported');
  assert.deepEqual(t.trace.tool_calls.map((c) => c.args.value), [true, false]);
  const nod = await run(['traces', 'show', 'nod the arm', '--json', ...b.flags], b.dir);
  assert.deepEqual((JSON.parse(nod.stdout) as { trace: { tool_calls: Array<{ args: { angle: number } }> } }).trace.tool_calls.map((c) => c.args.angle), [60, 90]);
  const winch = await run(['traces', 'show', 'pay out the winch', '--json', ...b.flags], b.dir);
  assert.equal((JSON.parse(winch.stdout) as { trace: { trace_id: string } }).trace.trace_id, 'raise-winch-v2');
  assert.equal((await run(['traces', 'validate', ...b.flags], b.dir)).code, 0);

  const again = await run(['traces', 'import', join(src, 'blink.yaml'), join(src, 'nod.md'), ...b.flags], b.dir);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /imported 0, skipped 2/);

  const file = out.files[1]?.file as string;
  const installed = readFileSync(file, 'utf8');
  writeFileSync(join(src, 'nod2.md'), MARKDOWN.replace('angle: 60', 'angle: 30'));
  const conflict = await run(['traces', 'import', join(src, 'nod2.md'), ...b.flags], b.dir);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /ERR_TRACE_CONFLICT: refused, nothing written/);
  assert.equal(readFileSync(file, 'utf8'), installed);
});

test('traces rm: refused without --yes (exit 2); removes the trace and its crystallized function', async () => {
  const b = board();
  const no = await run(['traces', 'rm', 'drive-square', ...b.flags], b.dir);
  assert.equal(no.code, 2);
  assert.match(no.stderr, /ERR_USAGE: .*--yes/);
  assert.ok(existsSync(join(b.traces, 'drive-square.yaml')));
  const yes = await run(['traces', 'rm', '--yes', 'drive-square', '--json', ...b.flags], b.dir);
  assert.equal(yes.code, 0, yes.stderr);
  assert.equal((JSON.parse(yes.stdout) as { removed: string[] }).removed.length, 2);
  assert.ok(!existsSync(join(b.traces, 'drive-square.yaml')));
  assert.deepEqual(listing(b.crystallized), []);
  assert.equal((await run(['traces', 'rm', '--yes', 'drive-square', ...b.flags], b.dir)).code, 1);
  // Two names for the same trace remove it once.
  const twice = await run(['traces', 'rm', '--yes', 'wave hello', 'wave-hello.yaml', '--json', ...b.flags], b.dir);
  assert.equal(twice.code, 0, twice.stderr);
  assert.deepEqual((JSON.parse(twice.stdout) as { removed: string[] }).removed.map((f) => f.split('/').at(-1)), ['wave-hello.yaml']);
});

test('board check: the sim board as a table and as JSON; a missing profile is reported and exits 1', async () => {
  const b = board();
  const r = await run(['board', 'check', '--board', 'sim', ...b.flags], b.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^device\s+kind\s+type\s+driver\s+status\s+detail$/m);
  assert.match(r.stdout, /^base\s+actuator\s+differential_drive\s+.*ok/m);
  const j = await run(['board', 'check', '--json', ...b.flags], b.dir);
  const out = JSON.parse(j.stdout) as { ok: boolean; rows: Array<{ name: string }> };
  assert.equal(out.ok, true);
  for (const n of ['base', 'arm', 'gripper', 'led', 'buzzer', 'winch', 'uart', 'distance', 'battery']) assert.ok(out.rows.some((row) => row.name === n), n);
  const missing = await run(['board', 'check', '--board', join(b.dir, 'nope.yaml')], b.dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /board profile invalid\n.*nope\.yaml/);
});

test('state show: persisted sentience, the last e-stop from the audit log, and trace counts', async () => {
  const b = board();
  mkdirSync(b.state, { recursive: true });
  writeFileSync(join(b.state, 'sentience.json'), JSON.stringify({ version: 1, values: { safety: -0.9, curiosity: 0, energy: 0.8, confidence: 0.3 }, at: new Date().toISOString(), last_event: 'safety_rejection' }));
  writeFileSync(join(b.state, 'audit.jsonl'), [
    { ts: '2026-01-01T00:00:00.000Z', source: 'mqtt', run: 'estop', tool: 'estop', decision: 'estop', reason: 'operator' },
    { ts: '2026-01-01T00:01:00.000Z', source: 'cli', run: 'r1', tool: 'drive', decision: 'reject', reason: 'e-stop engaged' },
  ].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const j = await run(['state', 'show', '--json', ...b.flags], b.dir);
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { sentience: { persisted: boolean; mode: string; last_event: string }; estop: { last_event: { decision: string; reason: string } }; traces: { total: number; crystallized: number; invalid: number } };
  assert.equal(out.sentience.persisted, true);
  assert.equal(out.sentience.mode, 'RECOVERY');
  assert.equal(out.sentience.last_event, 'safety_rejection');
  assert.equal(out.estop.last_event.decision, 'estop');
  assert.equal(out.estop.last_event.reason, 'operator');
  assert.deepEqual([out.traces.total, out.traces.crystallized, out.traces.invalid], [SHIPPED.length, 1, 0]);
  const text = await run(['state', 'show', ...b.flags], b.dir);
  assert.match(text.stdout, /sentience\s+RECOVERY/);
  assert.match(text.stdout, /e-stop\s+last engaged .*\(operator\)/);

  const fresh = board();
  const none = JSON.parse((await run(['state', 'show', '--json', ...fresh.flags], fresh.dir)).stdout) as { sentience: { persisted: boolean; mode: string }; estop: { last_event: null } };
  assert.equal(none.sentience.persisted, false);
  assert.equal(none.estop.last_event, null);
});

test('crystallize --dry-run prints the code and writes nothing; --json parses', async () => {
  const b = board();
  const before = listing(b.crystallized);
  const traceBefore = readFileSync(join(b.traces, 'wave-hello.yaml'), 'utf8');
  const r = await run(['crystallize', '--dry-run', 'wave hello', ...b.flags], b.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /export async function waveHello\(tools: ToolApi\)/);
  const j = await run(['crystallize', '--dry-run', '--json', 'wave hello', ...b.flags], b.dir);
  const out = JSON.parse(j.stdout) as { written: boolean; function: string; file: string };
  assert.equal(out.written, false);
  assert.equal(out.function, 'waveHello');
  assert.ok(out.file.startsWith(b.crystallized), out.file);
  assert.deepEqual(listing(b.crystallized), before);
  assert.equal(readFileSync(join(b.traces, 'wave-hello.yaml'), 'utf8'), traceBefore);
});

test('bad usage exits 2 with ERR_USAGE naming the flag or command', async () => {
  const b = board();
  const cases: Array<[string[], RegExp]> = [
    [['traces', 'list', '--bogus'], /ERR_USAGE: Unknown option '--bogus'/],
    [['traces', 'list', '--yes'], /ERR_USAGE: --yes applies to "traces rm" only/],
    [['traces', 'frobnicate'], /ERR_USAGE: unknown subcommand "traces frobnicate"/],
    [['teleport'], /ERR_USAGE: unknown command "teleport"/],
    [['bundle', 'export'], /ERR_USAGE: bundle export takes one output/],
    [['bundle', 'import', 'x.json', '--only', 'beep'], /ERR_USAGE: --only applies to "bundle export" only/],
    [['state', 'show', '--traces'], /ERR_USAGE: Option '--traces <value>' argument missing/],
    [['bench', 'nope'], /ERR_USAGE: unknown section "nope"/],
    [['bundle', 'export', 'out.json', '--only', ''], /ERR_USAGE: --only names no trace/],
    [['bundle', 'export', 'out.tgz'], /ERR_USAGE: \S*out\.tgz: a bundle is a \.json file, a \.tar file or a directory/],
  ];
  for (const [args, re] of cases) {
    const r = await run([...args, ...(args[0] === 'bench' || args.includes('--traces') ? [] : b.flags)], b.dir);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  const bad = await run(['traces', 'list', '--config', join(b.dir, 'missing.yaml')], b.dir);
  assert.equal(bad.code, 2);
});
