/**
 * Issue 17, item 5: hook rules see the resolved call. `drive` names no actuator (the board has
 * one drive base), and a BLOCK rule on `actuator: base` still stops it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simRobot } from './helpers.js';

test('a BLOCK rule on actuator: base stops the shipped drive trace, which names no actuator; nothing moves', async () => {
  const r = await simRobot({ overrides: { safety: { hooks: [{ event: 'pre_tool_use', actuator: 'base', decision: 'BLOCK', reason: 'base locked out' }] } } });
  try {
    const res = await r.os.execute('drive forward 1 meter');
    assert.equal(res.mode, 'FOLLOWER');
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_HOOK_BLOCKED');
    assert.match(res.error?.message ?? '', /base locked out/);
    await assert.rejects(r.os.gate.call({ name: 'turn', args: { degrees: 90 } }, { source: 'api', runId: 'x' }), (e: unknown) => (e as { code?: string }).code === 'ERR_HOOK_BLOCKED');
    assert.equal(r.writes().filter((w) => w.actuator === 'base').length, 0, 'nothing moved');
    // Other actuators are not affected.
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 100 } }, { source: 'api', runId: 'x' });
  } finally {
    await r.cleanup();
  }
});

test('hook functions see the filled-in actuator, and so does the audit', async () => {
  const r = await simRobot();
  try {
    const seen: unknown[] = [];
    r.os.gate.addHook('pre_tool_use', (input) => { seen.push(input.args['actuator']); return undefined; });
    const audit: unknown[] = [];
    r.os.gate.events.on('decision', (e) => { if (e.tool === 'drive') audit.push((e.args as Record<string, unknown>)['actuator']); });
    await r.os.gate.call({ name: 'drive', args: { distance_m: 0.05 } }, { source: 'api', runId: 'y' });
    assert.deepEqual(seen, ['base']);
    assert.deepEqual(audit, ['base']);
  } finally {
    await r.cleanup();
  }
});
