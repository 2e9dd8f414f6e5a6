/**
 * `llmos teach` while a runtime owns the board: the demonstration runs in the owner, over its
 * control socket, with the same output and exit codes as on its own; the owner's matcher knows the
 * taught trace at once. Every message on the socket passes its schema: a hostile local client gets
 * an error and nothing moves.
 */
import { whenOwnerServes } from '../runtime/owner/status.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { packagePath } from '../lib/paths.js';
import { readSimLog, runBin, tempDir } from './helpers.js';

interface Owner { dir: string; traces: string; state: string; simLog: string; flags: string[]; socket: string; stop(): Promise<void> }

async function startOwner(): Promise<Owner> {
  const dir = tempDir('llmos-owner-teach-');
  const traces = join(dir, 'traces');
  const state = join(dir, 'state');
  const simLog = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), traces, { recursive: true });
  const flags = ['--traces', traces, '--state', state, '--sim-time', 'virtual', '--sim-log', simLog];
  const owner: ChildProcessWithoutNullStreams = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--serve', ...flags], { cwd: dir, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  let err = '';
  owner.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  owner.stdout.resume();
  const exited = new Promise<void>((resolve) => owner.on('close', () => resolve()));
  const { socket } = await whenOwnerServes(state, { tries: 1200, exited: () => (owner.exitCode === null ? undefined : err) }) as { socket: string };
  return { dir, traces, state, simLog, flags, socket, stop: async () => { owner.kill('SIGTERM'); await exited; } };
}

/** Sends raw lines on the socket; resolves with everything the owner answered once it closes. */
function rawSession(socket: string, lines: readonly string[]): Promise<Array<{ t: string; text?: string; code?: number }>> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let buf = '';
    s.on('connect', () => { for (const l of lines) s.write(`${l}\n`); });
    s.on('data', (d: Buffer) => { buf += d.toString(); });
    s.on('error', reject);
    s.on('close', () => resolve(buf.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; text?: string; code?: number })));
  });
}

test('llmos teach --yes - beside a running owner: taught in the owner, saved, and replayed there as FOLLOWER with 0 LLM calls', { timeout: 180_000 }, async () => {
  const o = await startOwner();
  try {
    const taught = await runBin('llmos.js', ['teach', 'raise the arm to 120 degrees', '--yes', ...o.flags, '--json', '-'], {
      cwd: o.dir, input: '# a demonstration\n:call servo_move actuator=arm angle=120\n',
    });
    assert.equal(taught.code, 0, taught.stderr);
    assert.match(taught.stderr, /recorded servo_move actuator=arm angle=120/);
    const saved = JSON.parse(taught.stdout.trim()) as { ok: boolean; file: string; signature: string; parameters: string[]; calls: number };
    assert.deepEqual([saved.ok, saved.calls, saved.parameters], [true, 1, ['angle']]);
    const trace = parseYaml(readFileSync(saved.file, 'utf8')) as { origin: string; tool_calls: Array<{ name: string; args: Record<string, unknown> }> };
    assert.equal(trace.origin, 'taught');
    assert.deepEqual(trace.tool_calls, [{ name: 'servo_move', args: { actuator: 'arm', angle: '{{angle}}' } }]);
    // The owner moved the arm: its sim log (the teach process opened no board of its own).
    assert.ok(readSimLog(o.simLog).some((w) => w.actuator === 'arm' && w.value === 120), 'the owner moved the arm');

    const replay = await runBin('run-follower.js', [...o.flags, '--json', 'raise the arm to 100 degrees'], { cwd: o.dir });
    assert.equal(replay.code, 0, replay.stderr);
    const r = JSON.parse(replay.stdout.trim()) as { mode: string; trace: string; params: Record<string, number>; llm_calls: number };
    assert.deepEqual([r.mode, r.trace, r.params['angle'], r.llm_calls], ['FOLLOWER', saved.signature, 100, 0]);

    // Same refusals and exit codes as on its own; nothing saved from them.
    const before = readdirSync(o.traces).sort();
    const failed = await runBin('llmos.js', ['teach', 'swing the arm', '--yes', ...o.flags, '-'], { cwd: o.dir, input: ':call servo_move actuator=arm angle=30\n:call servo_move actuator=arm angle=9999\n' });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /not recorded: ERR_SAFETY_RANGE/);
    const empty = await runBin('llmos.js', ['teach', 'swing the arm', '--yes', ...o.flags, '-'], { cwd: o.dir, input: ':show\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /nothing was recorded/);
    const unconfirmed = await runBin('llmos.js', ['teach', 'swing the arm', ...o.flags, '-'], { cwd: o.dir, input: ':call servo_move actuator=arm angle=30\n', detached: true });
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /not saved/);
    const again = await runBin('llmos.js', ['teach', 'raise the arm to 120 degrees', '--yes', ...o.flags, '-'], { cwd: o.dir, input: ':call servo_move actuator=arm angle=90\n' });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ERR_TRACE_CONFLICT/);
    const other = await runBin('llmos.js', ['teach', 'swing the arm', '--yes', ...o.flags, '--board', join(o.dir, 'other.yaml'), '-'], { cwd: o.dir, input: ':call servo_move actuator=arm angle=30\n' });
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /ERR_(OWNER_MISMATCH|CONFIG_NOT_FOUND).*other\.yaml/);
    assert.deepEqual(readdirSync(o.traces).sort(), before, 'no trace file was written');
    // Each failed demonstration released the owner's teaching session: a new one starts.
    const next = await runBin('llmos.js', ['teach', 'swing the arm', '--yes', ...o.flags, '-'], { cwd: o.dir, input: ':call servo_move actuator=arm angle=30\n' });
    assert.equal(next.code, 0, next.stderr);
  } finally {
    await o.stop();
  }
});

test('the control socket: a message that fails its schema gets ERR_USAGE and nothing moves', { timeout: 180_000 }, async () => {
  const o = await startOwner();
  try {
    const hello = (extra: Record<string, unknown>): string => JSON.stringify({ t: 'hello', v: 1, cmd: 'run-follower', argv: ['drive forward 1 meter'], cwd: o.dir, ...extra });
    const cases: Array<[string[], RegExp]> = [
      [['not json'], /message 1: not a JSON line/],
      [[hello({ admin: true })], /message 1: a "hello" message: \/admin is not a known field/],
      [[hello({ argv: 'drive forward 1 meter' })], /message 1: a "hello" message: \/argv must be array/],
      [[hello({ cwd: 'relative' })], /\/cwd must match pattern/],
      [[JSON.stringify({ t: 'line', text: 'drive forward 1 meter' })], /expected "hello" first, got "line"/],
      [[JSON.stringify({ t: 'exec', cmd: 'rm -rf /' })], /"t" must be one of "hello", "line", "keys", "eof", "interrupt" \(got "exec"\)/],
      [['[1,2]'], /"t" must be one of/],
      [[hello({ argv: ['-'] }), JSON.stringify({ t: 'line', text: { toString: 'drive' } })], /message 2: a "line" message: \/text must be string/],
    ];
    for (const [lines, re] of cases) {
      const answer = await rawSession(o.socket, lines);
      const errs = answer.filter((m) => m.t === 'err').map((m) => m.text ?? '').join('');
      assert.match(errs, /ERR_USAGE: control socket/, `${lines.join(' | ')}: ${JSON.stringify(answer)}`);
      assert.match(errs, re, lines.join(' | '));
      const exit = answer.find((m) => m.t === 'exit');
      assert.ok(exit && exit.code !== 0, `${lines.join(' | ')} ends with a failure: ${JSON.stringify(answer)}`);
    }
    assert.equal(readSimLog(o.simLog).filter((w) => w.actuator === 'base' && w.value !== 0).length, 0, 'the base never moved');
    // The owner still serves well-formed clients.
    const ok = await runBin('run-follower.js', [...o.flags, '--json', 'beep'], { cwd: o.dir });
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await o.stop();
  }
});

test('llmos jog --teach --yes beside a running owner: the steps are recorded in the owner and the trace replays there', { timeout: 180_000 }, async () => {
  const o = await startOwner();
  try {
    const { spawnInPty } = await import('./pty.js');
    const before = new Set(readdirSync(o.traces));
    const p = spawnInPty([process.execPath, packagePath('dist', 'bin', 'llmos.js'), 'jog', '--teach', 'creep forward 0.2 meters', '--yes', ...o.flags]);
    await p.waitFor(/steps 0 /);
    const mark = p.output.length;
    p.type('w');
    await p.waitFor(/steps 1 /, mark);
    p.type('q');
    assert.equal(await p.exited, 0, p.output.slice(-1500));
    assert.match(p.output, /saved .*\.yaml/);
    const added = readdirSync(o.traces).filter((f) => !before.has(f));
    assert.equal(added.length, 1, 'one taught trace');
    const trace = parseYaml(readFileSync(join(o.traces, added[0] as string), 'utf8')) as { origin: string; tool_calls: Array<{ name: string }> };
    assert.equal(trace.origin, 'taught');
    assert.equal(trace.tool_calls[0]?.name, 'drive');
    const replay = await runBin('run-follower.js', [...o.flags, '--json', 'creep forward 0.1 meters'], { cwd: o.dir });
    const r = JSON.parse(replay.stdout.trim()) as { mode: string; llm_calls: number; ok: boolean };
    assert.deepEqual([r.mode, r.llm_calls, r.ok], ['FOLLOWER', 0, true], replay.stderr);
  } finally {
    await o.stop();
  }
});
