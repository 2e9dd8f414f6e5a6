/**
 * kill -9 of the runtime right after its first motion write: the watchdog process already holds
 * the outputs (no goal writes before it watches), so its safe writes follow in the sim log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, tempDir, type SimLogLine } from './helpers.js';

interface Line extends SimLogLine { source?: string }

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(5);
  assert.ok(pred(), `${what}: not reached within ${ms} ms`);
}

test('kill -9 right after the first motion write: the watchdog writes the safe values (repeated)', async () => {
  for (let i = 0; i < 3; i++) {
    const dir = tempDir();
    const log = join(dir, 'sim.jsonl');
    cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
    const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log, 'drive forward 5 meters'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await until(() => readSimLog(log).some((w) => w.actuator === 'base'), 30000, 'the first motion write');
      child.kill('SIGKILL');
      await exited;
      await until(() => (readSimLog(log) as Line[]).some((l) => l.source === 'watchdog'), 20000, `run ${i + 1}: safe writes by the watchdog after the kill`);
      const lines = readSimLog(log) as Line[];
      const first = lines.findIndex((l) => l.actuator === 'base');
      const safe = lines.findIndex((l) => l.source === 'watchdog');
      assert.ok(safe > first, 'the safe writes follow the first motion write');
      for (const ch of ['left', 'right']) {
        const last = lines.filter((l) => l.actuator === 'base' && l.channel === ch).at(-1);
        assert.equal(last?.value, 0, `run ${i + 1}: ${ch}\n${readFileSync(log, 'utf8')}`);
        assert.equal(last?.source, 'watchdog');
      }
    } finally {
      child.kill('SIGKILL');
    }
  }
});

test('a goal started the moment boot returns writes nothing before the watchdog process watches', async () => {
  const { loadConfig } = await import('../runtime/config.js');
  const { LLMOS } = await import('../runtime/llmos.js');
  const { silentLogger } = await import('../runtime/logger.js');
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const config = loadConfig({ cwd: dir, overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'real', log: join(dir, 'sim.jsonl') }, logging: { level: 'silent' } } });
  const os = new LLMOS({ config, logger: silentLogger });
  await os.boot();
  const pidsAtWrite: Array<number | undefined> = [];
  os.gate.events.on('write', () => pidsAtWrite.push(os.watchdogPid));
  try {
    // (Usually the watchdog process is still starting when boot returns; on a slow machine it may already watch.)
    const r = await os.execute('turn on the led');
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.ok(pidsAtWrite.length > 0);
    assert.ok(pidsAtWrite.every((p) => typeof p === 'number' && p > 0), `a watchdog watched at every write: ${JSON.stringify(pidsAtWrite)}`);
  } finally {
    await os.shutdown();
  }
});
