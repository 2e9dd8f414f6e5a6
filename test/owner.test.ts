/**
 * One owner per state directory: the first runtime takes the lock and serves the control socket;
 * other command-line runs send their goals to it and never open the hardware; counts and facts
 * written through the owner are never lost; a dead owner's lock is freed by the kernel.
 */
import { whenOwnerServes } from '../runtime/owner/status.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, runBin, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

interface Dir { dir: string; traces: string; state: string; flags: string[] }

const KEYS = ['alpha', 'bravo', 'charlie', 'delta'];

function board(): Dir {
  const dir = tempDir('llmos-owner-');
  const traces = join(dir, 'traces');
  const state = join(dir, 'state');
  cpSync(packagePath('traces'), traces, { recursive: true });
  for (const k of KEYS) {
    writeFileSync(join(traces, `remember-${k}.yaml`), `goal_text: remember the ${k} code\ntool_calls:\n  - { name: fact_write, args: { key: code.${k}, value: ${k.length} } }\n`);
  }
  return { dir, traces, state, flags: ['--traces', traces, '--state', state, '--sim-time', 'virtual'] };
}

/** Resolves once the owner's control socket accepts connections. */
async function socketUp(state: string, owner: ChildProcessWithoutNullStreams): Promise<string> {
  const info = await whenOwnerServes(state, { tries: 600, exited: () => (owner.exitCode === null ? undefined : `exit code ${owner.exitCode}`) });
  return info.socket as string;
}

function startOwner(d: Dir, extra: string[] = []): { owner: ChildProcessWithoutNullStreams; stderr: () => string; exited: Promise<number | null> } {
  const owner = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--serve', ...d.flags, ...extra], { cwd: d.dir, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  let err = '';
  owner.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  owner.stdout.resume();
  const exited = new Promise<number | null>((resolve) => owner.on('close', (code) => resolve(code)));
  return { owner, stderr: () => err, exited };
}

test('beside a running owner, 4 command-line runs x 100 goals are all counted and their facts all kept', { timeout: 240_000 }, async () => {
  const d = board();
  const simLog = join(d.dir, 'owner-sim.jsonl');
  const { owner, stderr, exited } = startOwner(d, ['--sim-log', simLog]);
  try {
    const socket = await socketUp(d.state, owner);
    assert.equal(statSync(socket).mode & 0o777, 0o660, 'group-only permissions');
    const runs = await Promise.all(KEYS.map((k) => runBin('run-follower.js', [...d.flags, '--json', '-'], { cwd: d.dir, input: `${'beep\n'.repeat(100)}remember the ${k} code\n` })));
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { goal: string; ok: boolean; mode: string });
      assert.equal(lines.length, 101, 'one JSON line per goal, as when run alone');
      assert.ok(lines.every((l) => l.ok && l.mode === 'FOLLOWER'));
    }
    // The owner's board did every write: 3 writes per beep (buzzer on, off: the wait is not a write).
    const buzzer = readSimLog(simLog).filter((w) => w.actuator === 'buzzer');
    assert.equal(buzzer.length, 400 * 2, 'every goal ran on the owner\'s (simulated) hardware');
    // The owner's answers to single commands (each command's main here; the owner is its own
    // process, reached over its socket as the runs above reached it from theirs).
    // A flag asking for another runtime is refused, not silently ignored; --standalone refuses too.
    const other = await runMain('run-follower', [...d.flags, '--board', join(d.dir, 'other.yaml'), 'beep'], { cwd: d.dir });
    assert.equal(other.code, 2);
    assert.match(other.stderr, /ERR_OWNER_MISMATCH: --board .*other\.yaml/);
    const alone = await runMain('run-follower', [...d.flags, '--standalone', 'beep'], { cwd: d.dir });
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /ERR_OWNER_BUSY: --standalone .*owns the state directory/);
    const probe = await runMain('llmos', ['board', 'check', '--traces', d.traces, '--state', d.state], { cwd: d.dir });
    assert.equal(probe.code, 2, 'probing would open the owner\'s devices');
    assert.match(probe.stderr, /ERR_OWNER_BUSY/);
    // Operator commands and exit codes go through the owner as well.
    const ops = await runMain('run-follower', [...d.flags, '-'], { cwd: d.dir, input: ':estop testing\nbeep\n:status\n:release\nbeep\n' });
    assert.equal(ops.code, 1, 'the goal during the e-stop failed');
    assert.match(ops.stderr, /e-stop engaged/);
    assert.match(ops.stderr, /e-stop released/);
    assert.match(ops.stdout, /ERR_ESTOP_ENGAGED/);
    const state = await runMain('llmos', ['state', 'show', '--json', '--traces', d.traces, '--state', d.state], { cwd: d.dir });
    assert.equal((JSON.parse(state.stdout) as { owner: { pid: number } | null }).owner?.pid, owner.pid, 'state show names the owner');
    // llmos crystallize goes to the owner too: its next beep runs the new function.
    const cr = await runMain('llmos', ['crystallize', 'beep', '--json', ...d.flags], { cwd: d.dir });
    assert.equal(cr.code, 0, cr.stderr);
    assert.equal((JSON.parse(cr.stdout) as { written: boolean }).written, true);
    const after = await runMain('run-follower', [...d.flags, '--json', 'beep'], { cwd: d.dir });
    assert.equal((JSON.parse(after.stdout) as { mode: string }).mode, 'CRYSTALLIZED');
  } finally {
    owner.stdin.end();
    assert.equal(await exited, 0, stderr());
  }
  const show = await runMain('llmos', ['traces', 'show', 'beep', '--json', '--traces', d.traces, '--state', d.state], { cwd: d.dir });
  const beep = JSON.parse(show.stdout) as { usage_count: number; success_count?: number };
  assert.equal(beep.usage_count, 403, '400 + two from the operator test (one failed) + one crystallized run');
  const facts = JSON.parse(readFileSync(join(d.state, 'facts.json'), 'utf8')) as Record<string, { value: number }>;
  assert.deepEqual(Object.keys(facts).sort(), KEYS.map((k) => `code.${k}`));
});

test('runs that start together take turns on the board: every goal counted once', { timeout: 240_000 }, async () => {
  const d = board();
  const runs = await Promise.all([0, 1, 2, 3].map(() => runBin('run-follower.js', [...d.flags, '--json', '-'], { cwd: d.dir, input: 'beep\n'.repeat(25) })));
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 25);
  }
  const show = await runMain('llmos', ['traces', 'show', 'beep', '--json', '--traces', d.traces, '--state', d.state], { cwd: d.dir });
  assert.equal((JSON.parse(show.stdout) as { usage_count: number }).usage_count, 100);
});

test('an owner killed outright frees the board: the kernel drops its lock and the next run owns it', { timeout: 120_000 }, async () => {
  const d = board();
  const { owner, exited } = startOwner(d);
  const socket = await socketUp(d.state, owner);
  owner.kill('SIGKILL');
  await exited;
  assert.ok(existsSync(socket), 'a killed owner leaves its socket file behind');
  const r = await runBin('run-follower.js', [...d.flags, '--standalone', '--json', 'beep'], { cwd: d.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { ok: boolean }).ok, true);
});

test('Ctrl-C on a command sent to the owner stops its goal there; the owner keeps serving', { timeout: 120_000 }, async () => {
  const d = board();
  const simLog = join(d.dir, 'owner-sim.jsonl');
  // Real time: the drive takes seconds, long enough to interrupt it mid-motion.
  const realFlags = ['--traces', d.traces, '--state', d.state];
  const owner = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--serve', ...realFlags, '--sim-log', simLog], { cwd: d.dir, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  owner.stdout.resume();
  owner.stderr.resume();
  const exited = new Promise<number | null>((resolve) => owner.on('close', (code) => resolve(code)));
  try {
    await socketUp(d.state, owner);
    const client = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), ...realFlags, '--json', 'drive forward 3 meters'], { cwd: d.dir, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    client.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    client.stderr.resume();
    const clientExit = new Promise<number | null>((resolve) => client.on('close', (code) => resolve(code)));
    for (let i = 0; i < 400 && !readSimLog(simLog).some((w) => w.actuator === 'base' && Number(w.value) > 0); i++) await sleep(50);
    assert.ok(readSimLog(simLog).some((w) => w.actuator === 'base' && Number(w.value) > 0), 'the owner drives');
    client.kill('SIGINT');
    assert.equal(await clientExit, 130);
    const r = JSON.parse(out.trim()) as { ok: boolean; error?: { code: string } };
    assert.equal(r.ok, false, 'the interrupted goal is reported as failed');
    const base = readSimLog(simLog).filter((w) => w.actuator === 'base');
    assert.equal(base.at(-1)?.value, 0, 'the base stopped');
    const next = await runBin('run-follower.js', [...realFlags, '--json', 'turn on the led'], { cwd: d.dir });
    assert.equal(next.code, 0, next.stderr);
    assert.equal(owner.exitCode, null, 'the owner still runs');
  } finally {
    owner.stdin.end();
    await exited;
  }
});
