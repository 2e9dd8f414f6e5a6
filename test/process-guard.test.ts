/**
 * Safe state on the ways out of a process: SIGTERM and SIGINT mid-motion stop the motion before
 * exiting; SIGUSR1 engages the latched e-stop and SIGUSR2 releases it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { readSimLog, startFollower, tempDir } from './helpers.js';


async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), 'condition not reached in time');
}

const exitOf = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`${signal} mid-motion: the base is brought to rest before the process exits (${code})`, async () => {
    const { child, log } = startFollower(['drive forward 3 meters'], false);
    const exited = exitOf(child);
    await until(() => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 30000);
    child.kill(signal);
    assert.equal(await exited, code);
    const base = readSimLog(log).filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.equal(base.filter((w) => w.channel === 'right').at(-1)?.value, 0);
  });
}

test('SIGUSR1 engages the latched e-stop mid-motion; goals are refused until SIGUSR2 releases it', async () => {
  const { child, log, out } = startFollower(['--serve', '--json']);
  const exited = exitOf(child);
  child.stdin?.write('drive forward 3 meters\n');
  await until(() => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 30000);
  child.kill('SIGUSR1');
  await until(() => /"mode":"FOLLOWER".*"ok":false/.test(out()), 30000);
  assert.match(out(), /ERR_ESTOP_ENGAGED/);
  const stopAt = readSimLog(log).length;
  child.stdin?.write('turn on the led\n');
  await until(() => (out().match(/"goal"/g) ?? []).length >= 2, 30000);
  assert.match(out().split('\n').filter((l) => l.includes('"goal":"turn on the led"'))[0] ?? '', /ERR_ESTOP_ENGAGED/);
  assert.ok(readSimLog(log).slice(stopAt).every((w) => w.actuator !== 'led'), 'nothing written while engaged');
  child.kill('SIGUSR2');
  await until(() => /e-stop released/.test(out()), 30000);
  child.stdin?.write('turn on the led\n');
  await until(() => readSimLog(log).some((w) => w.actuator === 'led' && w.value === true), 30000);
  child.stdin?.end();
  assert.equal(await exited, 1, 'a goal failed during the session');
});

test('operator commands on stdin: a call waiting for confirmation is approved with :confirm', async () => {
  const dir = tempDir();
  const cfg = join(dir, 'c.yaml');
  (await import('node:fs')).writeFileSync(cfg, 'safety: { hooks: [{ event: pre_tool_use, tool: digital_write, decision: ASK, reason: "operator must watch the light" }] }\n');
  const { child, log, out } = startFollower(['--serve', '--json', '--config', cfg]);
  const exited = exitOf(child);
  child.stdin?.write('turn on the led\n');
  await until(() => /(confirm-1-[0-9a-f]{8}): digital_write .* needs confirmation \(operator must watch the light\)/.test(out()), 30000);
  const first = (/(confirm-1-[0-9a-f]{8})/.exec(out()) as RegExpExecArray)[1] as string;
  assert.equal(readSimLog(log).length, 0, 'nothing moved before the answer');
  child.stdin?.write(':status\n');
  await until(() => out().includes(`waiting: ${first}`), 30000);
  child.stdin?.write(':confirm confirm-1\n');
  await until(() => /no confirmation "confirm-1" is waiting/.test(out()), 30000);
  child.stdin?.write(`:confirm ${first}\n`);
  await until(() => readSimLog(log).some((w) => w.actuator === 'led' && w.value === true), 30000);
  child.stdin?.write('turn off the led\n');
  await until(() => /confirm-2-[0-9a-f]{8}/.test(out()), 30000);
  child.stdin?.write(`:deny ${(/(confirm-2-[0-9a-f]{8})/.exec(out()) as RegExpExecArray)[1] as string}\n`);
  await until(() => /ERR_CONFIRM_DENIED/.test(out()), 30000);
  assert.deepEqual(readSimLog(log).map((w) => w.value), [true], 'the refused call wrote nothing');
  child.stdin?.write(':bogus\n');
  await until(() => /unknown command ":bogus"/.test(out()), 30000);
  child.stdin?.end();
  assert.equal(await exited, 1);
  assert.deepEqual(readSimLog(log).map((w) => w.value), [true, false], 'shutdown leaves the led at its safe value');
});
