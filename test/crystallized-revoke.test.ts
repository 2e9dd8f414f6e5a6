/**
 * Issue 17, item 2: the tool API handed to a crystallized function is revoked when its run ends;
 * a later call fails with ERR_TOOL_REVOKED and moves nothing. An e-stop aborts the run (and so
 * revokes its API) wherever it comes from, and a release never lets a left-over timer move again.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ToolApi } from '../runtime/crystallized-api.js';
import { traceHash } from '../runtime/crystallize/codegen.js';
import { sha256Hex } from '../runtime/crystallize/trust.js';
import { runCrystallized } from '../runtime/executors/crystallized.js';
import { simRobot, type SimRobot } from './helpers.js';

function opts(r: SimRobot, signal: AbortSignal): Parameters<typeof runCrystallized>[2] {
  return { gate: r.os.gate, clock: r.clock, workspace: r.dir, signal, ctx: { source: 'crystallized', runId: `t-${Math.random()}`, signal, replay: true } };
}

const winchWrites = (r: SimRobot): number => r.writes().filter((w) => w.actuator === 'winch').length;

test('a tool API used after its run ended fails with ERR_TOOL_REVOKED and moves nothing', async () => {
  const r = await simRobot();
  try {
    let kept: ToolApi | undefined;
    const res = await runCrystallized(async (tools) => { kept = tools; await tools.call('sensor_read', { sensor: 'battery' }); }, {}, opts(r, new AbortController().signal));
    assert.equal(res.ok, true);
    assert.equal(res.steps.length, 1);
    assert.ok(kept);
    await assert.rejects(kept.call('motor_set', { actuator: 'winch', speed: 0.5 }), (e: unknown) => (e as { code?: string }).code === 'ERR_TOOL_REVOKED');
    await assert.rejects(kept.precondition({ sensor: 'battery', min: 0 }), (e: unknown) => (e as { code?: string }).code === 'ERR_TOOL_REVOKED');
    assert.equal(kept.signal.aborted, true, 'the function can see its run is over');
    assert.equal(winchWrites(r), 0, 'nothing moved');
  } finally {
    await r.cleanup();
  }
});

test('a call started and not awaited when the function returns is aborted, and what it set moving stops', async () => {
  const r = await simRobot();
  try {
    const res = await runCrystallized(async (tools) => { void tools.call('motor_set', { actuator: 'winch', speed: 0.5, duration_ms: 5000 }).catch(() => undefined); }, {}, opts(r, new AbortController().signal));
    assert.equal(res.ok, true);
    assert.equal(r.os.gate.actuatorSnapshot()['winch'], 0, 'winch at rest after the run');
  } finally {
    await r.cleanup();
  }
});

test('an e-stop aborts a crystallized run in progress; after release, its left-over timer moves nothing', async () => {
  const r = await simRobot();
  try {
    let kept: ToolApi | undefined;
    let started!: () => void;
    const running = new Promise<void>((resolve) => { started = resolve; });
    const run = runCrystallized(async (tools) => {
      kept = tools;
      // Ignores its signal and errors: keeps trying, like a careless hand-written loop.
      for (let i = 0; i < 10000; i++) {
        started();
        await tools.call('wait', { ms: 20 }).catch(() => undefined);
        if (tools.signal.aborted) break;
      }
    }, {}, opts(r, new AbortController().signal));
    await running;
    // Not the current goal's e-stop: the gate's own (a button, MQTT, the watchdog).
    await r.os.gate.engageEstop('test', 'api');
    const res = await run;
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_ESTOP_ENGAGED');
    assert.equal(r.os.gate.releaseEstop('api'), true);
    await assert.rejects(kept!.call('motor_set', { actuator: 'winch', speed: 0.5 }), (e: unknown) => (e as { code?: string }).code === 'ERR_TOOL_REVOKED');
    assert.equal(winchWrites(r), 0, 'nothing moved after the release');
  } finally {
    await r.cleanup();
  }
});

test('end to end: a pinned hand-written function whose timer calls later runs ok, and the timer moves nothing', async () => {
  const dir = join((await import('./helpers.js')).tempDir(), 'crystallized');
  mkdirSync(dir, { recursive: true });
  const probe = await simRobot();
  const trace = probe.os.decide('beep').candidate!.trace;
  const sig = trace.goal_signature;
  await probe.cleanup();
  // A pinned file still names the trace version it was written for (traceHash).
  const code = `export const signature = '${sig}';\nexport const traceHash = '${traceHash(trace)}';\nexport async function beep(tools: { call: (t: string, a: Record<string, unknown>) => Promise<unknown> }): Promise<void> {\n  setTimeout(() => { void tools.call('motor_set', { actuator: 'winch', speed: 0.5 }).catch(() => undefined); }, 1);\n}\n`;
  writeFileSync(join(dir, 'beep.ts'), code);
  const r = await simRobot({ overrides: { paths: { crystallized: dir }, crystallization: { trusted_sha256: [sha256Hex(code)] } } });
  try {
    const res = await r.os.execute('beep');
    assert.equal(res.mode, 'CRYSTALLIZED', JSON.stringify(res));
    assert.equal(res.ok, true);
    // Its timer fires and is refused; give it every chance to.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(winchWrites(r), 0);
  } finally {
    await r.cleanup();
  }
});
