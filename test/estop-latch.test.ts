/**
 * The e-stop latch survives restarts and crashes (DESIGN.md invariant 9): engaged, kill -9,
 * started again -> still engaged and a goal is refused. A release is refused while the e-stop
 * input (a GPIO twin's button) is still active.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { isLlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { EstopLatchFile } from '../safety/estop-latch.js';
import { installProcessGuards } from '../scripts/lib/process-guard.js';
import { runControl } from '../scripts/cli.js';
import { estopPanel, readSimLog, simRobot, tempDir } from './helpers.js';

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), `${what}: not reached within ${ms} ms`);
}

function serve(dir: string): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', join(dir, 'sim.jsonl'), '--serve', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, out: () => out, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

test('the latch file: written whole, read back; a damaged or unreadable file counts as engaged', () => {
  const dir = tempDir();
  const f = new EstopLatchFile(join(dir, 'state', 'estop.json'));
  assert.equal(f.load(), undefined, 'no file: never engaged');
  f.save({ engaged: true, reason: 'test', source: 'api', since: '2026-01-01T00:00:00.000Z', engagement: 3 });
  assert.deepEqual(f.load(), { engaged: true, reason: 'test', source: 'api', since: '2026-01-01T00:00:00.000Z', engagement: 3 });
  f.save({ engaged: false, engagement: 3 });
  assert.deepEqual(f.load(), { engaged: false, engagement: 3 });
  writeFileSync(f.file, '{"engaged": tr');
  const torn = f.load();
  assert.equal(torn?.engaged, true);
  assert.match(torn?.reason ?? '', /damaged/);
});

test('engage, kill -9, start again: the state reads engaged and a goal is refused until an explicit release', async () => {
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const log = join(dir, 'sim.jsonl');
  const first = serve(dir);
  try {
    first.child.stdin?.write(':estop test latch\n:status\n');
    await until(() => /e-stop engaged \(test latch\)/.test(first.out()), 30000, 'engaged');
    assert.ok(existsSync(join(dir, 'state', 'estop.json')), 'the latch is on disk once the engage is reported');
    first.child.kill('SIGKILL');
    await first.exited;
  } finally {
    first.child.kill('SIGKILL');
  }
  const second = serve(dir);
  try {
    second.child.stdin?.write(':status\nturn on the led\n');
    await until(() => /"goal":"turn on the led"/.test(second.out()), 30000, 'the goal answered');
    assert.match(second.out(), /e-stop engaged \(test latch/);
    assert.match(second.out(), /ERR_ESTOP_ENGAGED/);
    assert.ok(readSimLog(log).every((w) => w.actuator !== 'led'), 'nothing moved while engaged');
    second.child.stdin?.write(':release\nturn on the led\n');
    await until(() => readSimLog(log).some((w) => w.actuator === 'led' && w.value === true), 30000, 'the led after the release');
    second.child.stdin?.end();
    await second.exited;
    assert.equal((JSON.parse(readFileSync(join(dir, 'state', 'estop.json'), 'utf8')) as { engaged: boolean }).engaged, false);
  } finally {
    second.child.kill('SIGKILL');
  }
});

test('a release is refused (ERR_ESTOP_INPUT_ACTIVE) while the GPIO twin button is active; allowed once it is let go', async () => {
  const { fake, board, press } = estopPanel();
  const r = await simRobot({ board, realTime: true, shippedTraces: false });
  const os = r.os;
  const led = { name: 'digital_write', args: { actuator: 'led', value: true } };
  try {
    press(true);
    await until(() => os.gate.estopEngaged, 5000, 'the button engages the e-stop');
    assert.throws(() => os.releaseEstop('test'), (e: unknown) => isLlmosError(e) && e.code === 'ERR_ESTOP_INPUT_ACTIVE' && /pin 24/.test(e.message));
    assert.equal(os.gate.estopEngaged, true, 'still engaged after the refused release');
    // Every other source is refused the same way: stdin, MQTT, SIGUSR2.
    assert.match(runControl(os, ':release'), /ERR_ESTOP_INPUT_ACTIVE/);
    const { estop } = await import('../runtime/mqtt/handlers/estop.js');
    const replies: unknown[] = [];
    await assert.rejects(estop.handle({
      os, payload: { id: 'rel-1', action: 'release', engagement: os.gate.estopStatus.engagement }, allowLlm: false,
      goalAllowed: () => true, state: () => ({}), reply: (r) => replies.push(r), fail: (e) => replies.push(e),
    }), (e: unknown) => isLlmosError(e) && e.code === 'ERR_ESTOP_INPUT_ACTIVE');
    assert.deepEqual(replies, [], 'no success reply over MQTT (the bridge answers with the error)');
    const said: string[] = [];
    const unguard = installProcessGuards(os, { log: (m) => said.push(m), exit: () => undefined });
    try {
      process.emit('SIGUSR2');
    } finally {
      unguard();
    }
    assert.match(said.join('\n'), /e-stop not released \(SIGUSR2\): ERR_ESTOP_INPUT_ACTIVE/);
    assert.equal(os.gate.estopEngaged, true, 'still engaged after every refused release');
    await assert.rejects(os.gate.call(led, { source: 'api', runId: 'r1' }), (e: unknown) => isLlmosError(e) && e.code === 'ERR_ESTOP_ENGAGED');
    assert.equal(fake.read(571 + 17), '0');
    press(false);
    let released = false;
    await until(() => { try { released ||= os.releaseEstop('test'); } catch { /* not let go yet */ } return released; }, 5000, 'released once the button is let go');
    await os.gate.call(led, { source: 'api', runId: 'r2' });
    assert.equal(fake.read(571 + 17), '1');
  } finally {
    await r.cleanup();
    fake.remove();
  }
});
