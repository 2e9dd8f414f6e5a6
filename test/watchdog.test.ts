/**
 * Fault injection: the event loop blocked mid-motion, the process killed mid-motion, a driver
 * throwing mid-command and a driver call that never returns. Each ends with the actuators at safe
 * values, asserted on the sim log; the watchdog's records are written while the runtime's event
 * loop is blocked (or after the process is gone), which proves it does not depend on that loop.
 * These tests use real time with generous bounds (they wait for events, never for a fixed time,
 * and the deadman windows leave room for a loaded machine); the exact latency is in `npm run bench`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { LlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { loadConfig } from '../runtime/config.js';
import { LLMOS } from '../runtime/llmos.js';
import { silentLogger } from '../runtime/logger.js';
import { readSimLog, tempDir, type SimLogLine } from './helpers.js';
import type { SimFaults } from '../drivers/sim/sim.js';

interface WatchdogLine extends SimLogLine { source?: string }

async function realTimeRobot(deadmanMs: number, simFaults?: SimFaults): Promise<{ os: LLMOS; log: string; dir: string }> {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const config = loadConfig({
    cwd: dir,
    overrides: {
      board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'real', log },
      safety: { deadman_ms: deadmanMs, watchdog: { enabled: true, heartbeat_ms: 20 } }, logging: { level: 'silent' },
    },
  });
  const os = new LLMOS({ config, logger: silentLogger, ...(simFaults ? { simFaults } : {}) });
  await os.boot();
  assert.ok(os.watchdogReady, 'the watchdog starts on a real-time board');
  const pid = await os.watchdogReady;
  assert.ok(pid > 0 && pid !== process.pid, 'the watchdog is a separate process');
  return { os, log, dir };
}

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

test('event loop blocked mid-motion: the watchdog process stops the base while the loop is blocked', async () => {
  const { os, log } = await realTimeRobot(300);
  try {
    const drive = os.gate.call({ name: 'drive', args: { distance_m: 3, speed: 0.5 } }, { source: 'api', runId: 'blocked' }).catch((e: unknown) => e);
    assert.ok(await waitFor(() => readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 30000), 'the base is driving');
    const before = readSimLog(log);
    const lastMainWrite = before.at(-1)?.t ?? 0;
    const blockMs = 3000;
    const until = Date.now() + blockMs;
    while (Date.now() < until) { /* an endless loop in a crystallized function */ }
    const err = await drive;
    const lines = readSimLog(log) as WatchdogLine[];
    const stops = lines.filter((l) => l.source === 'watchdog' && l.actuator === 'base');
    assert.deepEqual(stops.map((s) => [s.channel, s.value]).sort(), [['left', 0], ['right', 0]]);
    const t = stops[0]?.t ?? Infinity;
    assert.ok(t > lastMainWrite && t < lastMainWrite + blockMs, `the watchdog wrote at ${t}, during the block (${lastMainWrite}..${lastMainWrite + blockMs})`);
    assert.ok(err instanceof LlmosError && ['ERR_SAFETY_WATCHDOG', 'ERR_ESTOP_ENGAGED', 'ERR_ABORTED'].includes(err.code), String(err));
    assert.equal(os.gate.estopEngaged, true, 'a stall latches: no motion until an explicit release');
    await assert.rejects(os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 100 } }, { source: 'api', runId: 'x' }), /ERR_ESTOP_ENGAGED|e-stop/);
    const afterStop = (readSimLog(log) as WatchdogLine[]).filter((l) => l.actuator === 'base' && l.t > t);
    assert.ok(afterStop.every((l) => l.value === 0), `the runtime did not resume the motion after waking up: ${JSON.stringify(readSimLog(log).slice(-8))}`);
  } finally {
    await os.shutdown();
  }
});

test('a driver call that never returns: the watchdog steps in', async () => {
  let writes = 0;
  const { os, log } = await realTimeRobot(300, { blockWrite: (target) => target.actuator.name === 'base' && ++writes === 12 });
  try {
    void os.gate.call({ name: 'drive', args: { distance_m: 3, speed: 0.5 } }, { source: 'api', runId: 'stuck' }).catch(() => undefined);
    assert.ok(await waitFor(() => (readSimLog(log) as WatchdogLine[]).some((l) => l.source === 'watchdog'), 30000), 'watchdog records appear');
    const stops = (readSimLog(log) as WatchdogLine[]).filter((l) => l.source === 'watchdog' && l.actuator === 'base');
    assert.deepEqual(stops.map((s) => s.value), [0, 0]);
  } finally {
    await os.shutdown();
  }
});

test('a driver throwing mid-command fails the run with ERR_DRIVER and leaves the base stopped', async () => {
  let n = 0;
  const { os, log } = await realTimeRobot(300, { onWrite: (target) => (target.actuator.name === 'base' && ++n === 8 ? new Error('H-bridge fault') : undefined) });
  try {
    const r = await os.execute('drive forward 1 meter');
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'ERR_DRIVER');
    assert.match(r.error?.message ?? '', /H-bridge fault/);
    const base = readSimLog(log).filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.equal(base.filter((w) => w.channel === 'right').at(-1)?.value, 0);
  } finally {
    await os.shutdown();
  }
});

test('process killed mid-motion (SIGKILL): the watchdog process brings the actuators to safe values', async () => {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log, 'drive forward 3 meters'], { stdio: 'ignore' });
  try {
    assert.ok(await waitFor(() => existsSync(log) && readSimLog(log).some((w) => w.actuator === 'base' && (w.value as number) > 0.3), 30000), 'driving before the kill');
    child.kill('SIGKILL');
    assert.ok(await waitFor(() => (readSimLog(log) as WatchdogLine[]).some((l) => l.source === 'watchdog'), 30000), `watchdog records after the kill:\n${readFileSync(log, 'utf8').split('\n').slice(-4).join('\n')}`);
    const lines = readSimLog(log) as WatchdogLine[];
    const last = (ch: string): WatchdogLine | undefined => lines.filter((l) => l.actuator === 'base' && l.channel === ch).at(-1);
    assert.equal(last('left')?.value, 0);
    assert.equal(last('right')?.value, 0);
    assert.equal(last('left')?.source, 'watchdog');
  } finally {
    child.kill('SIGKILL');
  }
});
