/**
 * The commands' main(argv, io) as a library (issue 23 item 7): importing one runs nothing; many run
 * in one process; each returns its exit code after an orderly close and leaves no timer, handle,
 * child process or process-wide listener behind; a signal from its io stops motion first.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

const HOOKS = ['SIGINT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'uncaughtException', 'unhandledRejection', 'exit'] as const;
const hooks = (): number[] => HOOKS.map((e) => process.listenerCount(e));

function board(): { dir: string; flags: string[]; log: string } {
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const log = join(dir, 'sim.jsonl');
  return { dir, log, flags: ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log] };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), `${what}: not reached within ${ms} ms`);
}

test('importing a command runs nothing: no output, no exit code, no process hooks', async () => {
  const before = hooks();
  const exitCode = process.exitCode;
  for (const cmd of ['run-follower', 'run-agentic-follower', 'llmos']) {
    const mod = (await import(`../scripts/commands/${cmd}.js`)) as { main: unknown };
    assert.equal(typeof mod.main, 'function', cmd);
  }
  assert.deepEqual(hooks(), before);
  assert.equal(process.exitCode, exitCode);
});

test('many mains in one process (real time, with the safety watchdog process): each closes everything it opened', async () => {
  const b = board();
  const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
  const before = hooks();
  // Twice: the second round starts from whatever the first left behind.
  for (let i = 0; i < 2; i++) {
    const one = await runMain('run-follower', [...b.flags, '--json', 'turn on the led'], { cwd: b.dir });
    assert.equal(one.code, 0, one.stderr);
    assert.equal((JSON.parse(one.stdout) as { ok: boolean }).ok, true);
    const lines = await runMain('run-follower', [...b.flags, '--json', '-'], { cwd: b.dir, input: 'beep\n:status\nfly to the moon\n' });
    assert.equal(lines.code, 1, 'one goal is refused');
    assert.match(lines.stderr, /e-stop released; waiting: none; watchdog pid \d+/);
    const state = await runMain('llmos', ['state', 'show', '--json', '--traces', join(b.dir, 'traces'), '--state', join(b.dir, 'state')], { cwd: b.dir });
    assert.equal(state.code, 0, state.stderr);
    const help = await runMain('run-agentic-follower', ['--help']);
    assert.equal(help.code, 0);
  }
  assert.deepEqual(hooks(), before, 'no process-wide listener left');
  // Closed handles leave the list within a turn or two of the event loop.
  await until(() => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length <= resources, 10000, 'no timer, socket or child process left');
});

test('SIGTERM from the io\'s signal source during a drive: motion stops first, then main returns 143', async () => {
  const b = board();
  const signals = new EventEmitter();
  const run = runMain('run-follower', [...b.flags, '--json', '-'], { cwd: b.dir, input: 'drive forward 5 meters\ndrive backward 2 meters\n', signals });
  const moving = (): boolean => readSimLog(b.log).some((w) => w.actuator === 'base' && (w.value as number) > 0.05);
  await until(moving, 30000, 'the drive moves');
  signals.emit('SIGTERM');
  const r = await run;
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /SIGTERM: bringing actuators to safe values/);
  const base = readSimLog(b.log).filter((w) => w.actuator === 'base');
  assert.ok(base.every((w) => (w.value as number) >= 0), 'the queued backward drive wrote nothing');
  assert.deepEqual([base.filter((w) => w.channel === 'left').at(-1)?.value, base.filter((w) => w.channel === 'right').at(-1)?.value], [0, 0]);
});
