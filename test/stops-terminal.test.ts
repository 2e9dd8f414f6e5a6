/**
 * Stops where a user meets them: Ctrl-C typed on a real pseudo-terminal (the terminal sends
 * SIGINT to its whole foreground process group), and the safety watchdog process killed on its
 * own. Each ends with both wheels at 0 and no crash.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, tempDir } from './helpers.js';

const hasPython = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

function robotDir(): { dir: string; log: string; args: string[] } {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  return { dir, log, args: ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log] };
}

function lastWheels(log: string): [unknown, unknown] {
  const base = readSimLog(log).filter((w) => w.actuator === 'base');
  return [base.filter((w) => w.channel === 'left').at(-1)?.value, base.filter((w) => w.channel === 'right').at(-1)?.value];
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), `${what}: not reached within ${ms} ms`);
}

/** Runs `run-follower ... goal` on a pseudo-terminal and types `keys` once the base moves. */
function onTerminal(log: string, keys: string, args: string[]): Promise<{ moved: boolean; code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const py = spawn('python3', [packagePath('test', 'fixtures', 'pty-run.py'), log, keys, process.execPath, packagePath('dist', 'bin', 'run-follower.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    py.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    py.on('error', reject);
    py.on('close', () => {
      try { resolve(JSON.parse(out) as { moved: boolean; code: number; out: string }); } catch (e) { reject(new Error(`pty helper said: ${out} (${String(e)})`)); }
    });
  });
}

test('Ctrl-C on a real terminal during a 5 m drive: both wheels end at 0 and the runtime exits 130 (repeated)', { skip: !hasPython && process.env['LLMOS_CI'] !== '1' ? 'python3 with pty is not installed' : false }, async () => {
  for (let i = 0; i < 5; i++) {
    const { log, args } = robotDir();
    const r = await onTerminal(log, '\\x03', [...args, 'drive forward 5 meters']);
    assert.ok(r.moved, `run ${i + 1}: the base moved before ^C\n${r.out}`);
    assert.equal(r.code, 130, `run ${i + 1}: exit code\n${r.out}`);
    assert.doesNotMatch(r.out, /again: exiting now|ERR_IPC_CHANNEL_CLOSED|shutdown took too long/, `run ${i + 1}`);
    assert.deepEqual(lastWheels(log), [0, 0], `run ${i + 1}: wheels after ^C\n${r.out}\n${readFileSync(log, 'utf8').split('\n').slice(-6).join('\n')}`);
  }
});

test('the watchdog process killed on its own: motion stops, the e-stop latches, the runtime does not crash and watches again', async () => {
  const { log, args } = robotDir();
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), ...args, '--serve', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    child.stdin.write('drive forward 5 meters\n');
    await until(() => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.05), 30000, 'motion');
    child.stdin.write(':status\n');
    await until(() => /watchdog pid (\d+)/.test(out), 10000, 'watchdog pid in :status');
    const wdPid = Number((/watchdog pid (\d+)/.exec(out) as RegExpExecArray)[1]);
    assert.notEqual(wdPid, child.pid);
    process.kill(wdPid, 'SIGKILL');
    await until(() => /"ok":false/.test(out), 20000, 'the goal ends');
    assert.match(out, /safety watchdog process (exited|is gone)/);
    assert.deepEqual(lastWheels(log), [0, 0], out);
    assert.doesNotMatch(out, /ERR_IPC_CHANNEL_CLOSED|crash/);
    // A new watchdog watches; the e-stop stays latched until released.
    let asked = 0;
    await until(() => { if (asked++ % 10 === 0) child.stdin.write(':status\n'); return new RegExp(`watchdog pid (?!${wdPid}\\b)\\d+`).test(out); }, 20000, 'a new watchdog');
    assert.match(out, /e-stop engaged/);
    child.stdin.end();
    assert.equal(await exited, 1);
    assert.deepEqual(lastWheels(log), [0, 0]);
  } finally {
    child.kill('SIGKILL');
  }
});
