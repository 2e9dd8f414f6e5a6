/**
 * Built-in stop words where a user meets them: a real run-follower process reading goals on
 * standard input while the base drives, the command line, and MQTT cmd/execute against a broker.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, simRobot, startFollower, tempDir } from './helpers.js';
import { runMain } from './run-main.js';


async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), `${what}: not reached in time`);
}

const exitOf = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));
const lines = (out: string): Array<Record<string, unknown>> => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const atRest = (log: string): boolean => {
  const base = readSimLog(log).filter((w) => w.actuator === 'base');
  return base.filter((w) => w.channel === 'left').at(-1)?.value === 0 && base.filter((w) => w.channel === 'right').at(-1)?.value === 0;
};

test('"stop" on standard input stops the running drive at once, never matches a trace, and later goals still run', async () => {
  const { child, log, out } = startFollower(['--serve', '--json']);
  const exited = exitOf(child);
  try {
    child.stdin?.write('drive forward 3 meters\n');
    await until(() => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 8000, 'driving');
    child.stdin?.write('stop\n');
    await until(() => lines(out()).some((l) => l['mode'] === 'STOP'), 5000, 'the stop answered');
    const stop = lines(out()).find((l) => l['mode'] === 'STOP') as Record<string, unknown>;
    assert.equal(stop['ok'], true);
    assert.equal(stop['trace'], null);
    await until(() => lines(out()).some((l) => l['goal'] === 'drive forward 3 meters'), 5000, 'the drive ended');
    const drive = lines(out()).find((l) => l['goal'] === 'drive forward 3 meters') as { ok: boolean; error?: { code: string } };
    assert.equal(drive.ok, false, 'the drive was cut short');
    assert.equal(drive.error?.code, 'ERR_ABORTED');
    assert.ok(atRest(log), 'the base is at rest');
    // Not latched: the next goal runs.
    child.stdin?.write('turn on the led\n');
    await until(() => readSimLog(log).some((w) => w.actuator === 'led' && w.value === true), 5000, 'the led goal ran');
  } finally {
    child.stdin?.end();
    child.kill('SIGTERM');
    await exited;
  }
});

test('"e-stop" on standard input engages the latched e-stop; no goal text releases it, only the operator', async () => {
  const { child, log, out } = startFollower(['--serve', '--json']);
  const exited = exitOf(child);
  try {
    child.stdin?.write('drive forward 3 meters\n');
    await until(() => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 8000, 'driving');
    child.stdin?.write('e-stop\n');
    await until(() => lines(out()).some((l) => l['mode'] === 'ESTOP'), 5000, 'the e-stop answered');
    await until(() => atRest(log), 5000, 'the base at rest');
    for (const goal of ['release the e-stop', 'turn on the led']) child.stdin?.write(`${goal}\n`);
    await until(() => lines(out()).some((l) => l['goal'] === 'turn on the led'), 5000, 'both answered');
    const release = lines(out()).find((l) => l['goal'] === 'release the e-stop') as { mode: string; error?: { code: string } };
    assert.equal(release.mode, 'REFUSED');
    assert.equal(release.error?.code, 'ERR_NOT_A_COMMAND');
    const led = lines(out()).find((l) => l['goal'] === 'turn on the led') as { ok: boolean; error?: { code: string } };
    assert.equal(led.error?.code, 'ERR_ESTOP_ENGAGED', 'still latched');
    assert.ok(readSimLog(log).every((w) => w.actuator !== 'led'), 'nothing written while engaged');
    child.stdin?.write(':release\n');
    await until(() => /e-stop released/.test(out()), 5000, 'released by the operator');
  } finally {
    child.stdin?.end();
    child.kill('SIGTERM');
    await exited;
  }
});

test('stops as people shout them ("whoa, stop the robot!", "stop the arm" with no trace of its own, "hit the kill switch") act ahead of the queue; "don\'t stop" does not', async () => {
  const { child, log, out } = startFollower(['--serve', '--json']);
  const exited = exitOf(child);
  const answered = (goal: string): Record<string, unknown> | undefined => lines(out()).find((l) => l['goal'] === goal);
  const driveThen = async (n: number, shout: string): Promise<void> => {
    const before = existsSync(log) ? readSimLog(log).length : 0;
    child.stdin?.write('drive forward 3 meters\n');
    await until(() => existsSync(log) && readSimLog(log).slice(before).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 8000, `driving (${n})`);
    child.stdin?.write(`${shout}\n`);
    await until(() => answered(shout) !== undefined, 5000, `"${shout}" answered`);
    await until(() => lines(out()).filter((l) => l['goal'] === 'drive forward 3 meters').length === n, 5000, `drive ${n} ended`);
    await until(() => atRest(log), 5000, `the base at rest after "${shout}"`);
  };
  try {
    child.stdin?.write("don't stop\n");
    await until(() => answered("don't stop") !== undefined, 5000, 'the negated stop answered');
    assert.notEqual(answered("don't stop")?.['mode'], 'STOP');
    await driveThen(1, 'whoa, stop the robot!');
    assert.equal(answered('whoa, stop the robot!')?.['mode'], 'STOP');
    await driveThen(2, 'stop the arm');
    assert.equal(answered('stop the arm')?.['mode'], 'STOP', 'no trace stops the arm alone: every motion stops');
    const drives = lines(out()).filter((l) => l['goal'] === 'drive forward 3 meters') as Array<{ ok: boolean; error?: { code: string } }>;
    assert.deepEqual(drives.map((d) => d.error?.code), ['ERR_ABORTED', 'ERR_ABORTED'], 'both drives were cut short');
    await driveThen(3, 'hit the kill switch');
    assert.equal(answered('hit the kill switch')?.['mode'], 'ESTOP');
    child.stdin?.write('turn on the led\n');
    await until(() => answered('turn on the led') !== undefined, 5000, 'the led goal answered');
    assert.equal((answered('turn on the led') as { error?: { code: string } }).error?.code, 'ERR_ESTOP_ENGAGED');
  } finally {
    child.stdin?.end();
    child.kill('SIGTERM');
    await exited;
  }
});

test('a stop inside a multi-step goal ("stop, then turn around") stops the running drive at once; the rest is refused, not run', async () => {
  const r = await simRobot({ realTime: true });
  try {
    const drive = r.os.execute('drive forward 3 meters');
    await until(() => r.writes().some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 8000, 'driving');
    const stop = await r.os.execute('stop, then turn around');
    assert.equal(stop.mode, 'STOP');
    assert.equal(stop.ok, false);
    assert.equal(stop.error?.code, 'ERR_NOT_A_COMMAND');
    assert.match(stop.error?.message ?? '', /all motion stopped at once; the rest .* was not run/);
    assert.equal((await drive).error?.code, 'ERR_ABORTED');
    assert.ok(atRest(r.simLog), 'the base is at rest');
    const wheels = r.writes().filter((w) => w.actuator === 'base');
    assert.ok(wheels.every((w) => (w.value as number) >= 0), 'no turn: no wheel ever ran backward');
    // "... then stop" at the end is a plain multi-step goal: every replay ends at rest.
    assert.equal(r.os.decide('beep then stop').mode, 'FOLLOWER');
  } finally {
    await r.cleanup();
  }
});

test('from the command line: a stop word reports its own mode and exits 0; a question is ERR_NOT_A_COMMAND (exit 1)', async () => {
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  // The command's main in-process: the command line is the subject here, not the process.
  const run = async (goal: string): Promise<{ status: number | null; result: Record<string, unknown> }> => {
    const r = await runMain('run-follower', ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--json', goal]);
    return { status: r.code, result: JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown> };
  };
  const halt = await run('halt');
  assert.equal(halt.status, 0);
  assert.equal(halt.result['mode'], 'STOP');
  assert.equal(halt.result['trace'], null);
  const estop = await run('emergency stop');
  assert.equal(estop.result['mode'], 'ESTOP');
  const question = await run('is the gripper open?');
  assert.equal(question.status, 1);
  assert.equal(question.result['mode'], 'REFUSED');
  assert.equal((question.result['error'] as { code: string }).code, 'ERR_NOT_A_COMMAND');
  assert.match((question.result['error'] as { message: string }).message, /question/);
});
