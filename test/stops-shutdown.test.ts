/**
 * Shutdown order where users meet it: SIGTERM with a second goal queued on standard input, and
 * SIGTERM while the MQTT broker (a real Mosquitto) is frozen with SIGSTOP. Motion stops first;
 * the queued goal never writes; the broker cannot hold the stop up.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { mosquittoPath, startMosquitto } from './mqtt-broker.js';
import { readSimLog, tempDir } from './helpers.js';

function start(extra: string[]): { child: ChildProcess; log: string; out: () => string; exited: Promise<number | null> } {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log, '--json', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, log, out: () => out, exited };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), `${what}: not reached within ${ms} ms`);
}

const moving = (log: string): boolean => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.05);
const wheels = (log: string): unknown[] => {
  const base = readSimLog(log).filter((w) => w.actuator === 'base');
  return [base.filter((w) => w.channel === 'left').at(-1)?.value, base.filter((w) => w.channel === 'right').at(-1)?.value];
};

test('SIGTERM during the first of two goals on standard input: the second never writes', async () => {
  for (let i = 0; i < 2; i++) {
    const { child, log, out, exited } = start(['-']);
    try {
      child.stdin?.write('drive forward 5 meters\ndrive backward 2 meters\n');
      await until(() => moving(log), 30000, 'the first goal moves');
      child.kill('SIGTERM');
      assert.equal(await exited, 143, out());
      const writes = readSimLog(log).filter((w) => w.actuator === 'base');
      assert.ok(writes.every((w) => (w.value as number) >= 0), `the queued backward drive wrote nothing:\n${out()}`);
      assert.deepEqual(wheels(log), [0, 0]);
      assert.doesNotMatch(out(), /shutdown took too long/);
    } finally {
      child.kill('SIGKILL');
    }
  }
});

test('SIGTERM with the MQTT broker frozen (SIGSTOP): motion stops before the broker is even tried', { skip: mosquittoPath() ? false : 'mosquitto is not installed' }, async () => {
  const broker = await startMosquitto();
  const pid = broker.pid?.();
  assert.ok(pid, 'the broker runs');
  const { child, log, out, exited } = start(['--serve', '--mqtt', broker.url]);
  try {
    await until(() => /mqtt: connected/.test(out()), 30000, 'connected to the broker');
    child.stdin?.write('drive forward 5 meters\n');
    await until(() => moving(log), 30000, 'the goal moves');
    process.kill(pid, 'SIGSTOP');
    child.kill('SIGTERM');
    assert.equal(await exited, 143, out());
    assert.deepEqual(wheels(log), [0, 0]);
    const text = out();
    const safe = text.indexOf('actuators at safe values');
    assert.ok(safe > 0, `the stop is reported:\n${text}`);
    assert.ok(text.indexOf('SIGTERM: bringing actuators to safe values') < safe);
    assert.doesNotMatch(text, /shutdown took too long/);
  } finally {
    child.kill('SIGKILL');
    process.kill(pid, 'SIGCONT');
    await broker.stop();
  }
});

test('a second SIGINT during the stop ramp: the failsafe values are written before the process exits', async () => {
  const { child, log, out, exited } = start(['drive forward 5 meters']);
  try {
    await until(() => readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 30000, 'driving fast');
    child.kill('SIGINT');
    await until(() => /SIGINT: bringing actuators to safe values/.test(out()), 10000, 'the stop begins');
    child.kill('SIGINT');
    assert.equal(await exited, 130, out());
    assert.deepEqual(wheels(log), [0, 0], out());
    assert.doesNotMatch(out(), /shutdown took too long/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a silent broker (Mosquitto frozen with SIGSTOP) stops motion within the loss window, before MQTT keepalive notices', { skip: mosquittoPath() ? false : 'mosquitto is not installed' }, async () => {
  const broker = await startMosquitto();
  const pid = broker.pid?.();
  assert.ok(pid, 'the broker runs');
  const cfgDir = tempDir();
  const cfg = join(cfgDir, 'c.yaml');
  (await import('node:fs')).writeFileSync(cfg, 'safety: { broker_loss: { action: stop, after_ms: 1500 } }\nmqtt: { keepalive_s: 30 }\n');
  const { child, log, out, exited } = start(['--serve', '--mqtt', broker.url, '--config', cfg]);
  try {
    await until(() => /mqtt: connected/.test(out()), 30000, 'connected to the broker');
    child.stdin?.write('drive forward 5 meters\n');
    await until(() => moving(log), 30000, 'the goal moves');
    process.kill(pid, 'SIGSTOP');
    await until(() => /broker silent for \d+ ms: stopping motion/.test(out()), 30000, 'the silence is noticed');
    await until(() => /"ok":false/.test(out()), 30000, 'the goal ends');
    assert.deepEqual(wheels(log), [0, 0]);
    // Noticed by the liveness check, before the MQTT keepalive (at least 5 s, timeout at 1.5x) did.
    const text = out();
    const keepalive = text.indexOf('Keepalive timeout');
    assert.ok(keepalive === -1 || keepalive > text.indexOf('broker silent for'), text);
    assert.equal(child.exitCode, null, 'still running: a lost broker stops motion, not the runtime');
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
  } finally {
    child.kill('SIGKILL');
    process.kill(pid, 'SIGCONT');
    await broker.stop();
  }
});

test('a crash during the stop writes the failsafe values at once and lets the stop go on (never "exiting now" halfway)', async () => {
  const guard = packagePath('dist', 'scripts', 'lib', 'process-guard.js');
  const script = `
    const { installProcessGuards } = await import(${JSON.stringify(guard)});
    const said = (m) => process.stdout.write(m + '\\n');
    let finish;
    const os = {
      shutdown: () => new Promise((r) => { finish = r; said('stopping'); }),
      failsafeSync: (why) => { said('failsafe: ' + why); return 2; },
      flushSync: () => undefined,
      estop: async () => undefined, releaseEstop: () => false,
    };
    installProcessGuards(os, { log: said, exit: (code) => { said('exit ' + code); process.exit(code); } });
    process.emit('SIGINT');
    setImmediate(() => { setImmediate(() => { finish(); }); throw new Error('second fault'); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const lines = out.trim().split('\n');
  const failsafe = lines.findIndex((l) => l.startsWith('failsafe: crash during the stop'));
  assert.ok(failsafe > 0, out);
  assert.ok(lines.findIndex((l) => /crash during the stop: 2 failsafe writes done; the stop goes on/.test(l)) > failsafe, out);
  assert.equal(lines.at(-1), 'exit 130', 'the orderly stop finished and exited with the first reason');
  assert.doesNotMatch(out, /exiting now/);
  assert.equal(code, 130);
});
