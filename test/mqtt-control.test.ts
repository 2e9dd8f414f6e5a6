/**
 * MQTT control against a real broker: the e-stop, confirmations, state and traces commands, safety
 * rejections as events, stop words, the production preset and the goal allow-list.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { LlmosError } from '../lib/errors.js';
import { planConnection } from '../runtime/mqtt/connection.js';
import { topicsFor } from '../runtime/mqtt/topics.js';
import { useBroker, broker, device, client, watch, until, request } from './mqtt-suite.js';

useBroker();

test('cmd/estop engages (latched) and releases; cmd/confirm answers a waiting call; cmd/state and cmd/traces reply', async () => {
  const d = await device({ safety: { hooks: [{ event: 'pre_tool_use', tool: 'pwm_write', decision: 'ASK', reason: 'noise check' }] } });
  const c = await client();
  try {
    const events = await watch(c, `${d.base}/events`);
    const engaged = await request(c, d.base, 'estop', { id: 'e-1', action: 'engage', reason: 'test' }, 'e-1');
    // The reply names the engagement a release must give.
    assert.deepEqual(engaged['result'], { engaged: true, engagement: d.r.os.gate.estopStatus.engagement });
    assert.equal(d.r.os.gate.estopEngaged, true);
    const blocked = await request(c, d.base, 'execute', { id: 'x-1', goal: 'turn on the led' }, 'x-1');
    assert.equal((blocked['result'] as { error: { code: string } }).error.code, 'ERR_ESTOP_ENGAGED');
    const state = await request(c, d.base, 'state', { id: 's-1' }, 's-1');
    const estopState = (state['result'] as { estop: { engaged: boolean; engagement: number } }).estop;
    assert.equal(estopState.engaged, true);
    assert.equal(estopState.engagement, (engaged['result'] as { engagement: number }).engagement);
    // A release must name the e-stop it clears: one without, or for an older e-stop, is refused.
    const unnamed = await request(c, d.base, 'estop', { id: 'e-2a', action: 'release' }, 'e-2a');
    assert.equal(unnamed['ok'], false);
    assert.match(JSON.stringify(unnamed['error']), /engagement/);
    const stale = await request(c, d.base, 'estop', { id: 'e-2b', action: 'release', engagement: estopState.engagement - 1 }, 'e-2b');
    assert.equal(stale['ok'], false);
    assert.match(JSON.stringify(stale['error']), /was engaged since; not released/);
    assert.equal(d.r.os.gate.estopEngaged, true, 'still engaged');
    const released = await request(c, d.base, 'estop', { id: 'e-2', action: 'release', engagement: estopState.engagement }, 'e-2');
    assert.deepEqual(released['result'], { engaged: false, released: true });
    const beep = request(c, d.base, 'execute', { id: 'b-1', goal: 'beep' }, 'b-1');
    // beep writes the buzzer twice (on, off): each write asks.
    for (let k = 1; k <= 2; k++) {
      const ask = await until(() => events.map((e) => JSON.parse(e.body) as { type: string; id?: string }).filter((e) => e.type === 'confirm_request')[k - 1]);
      const ans = await request(c, d.base, 'confirm', { id: `c-${k}`, confirmation: ask.id, approve: true }, `c-${k}`);
      assert.equal(ans['ok'], true);
    }
    assert.equal((await beep)['ok'], true);
    const list = await request(c, d.base, 'traces', { id: 't-1', limit: 5 }, 't-1');
    const l = list['result'] as { total: number; traces: Array<{ signature: string; goal_text: string }> };
    assert.ok(l.total >= 15 && l.traces.length === 5);
    const show = await request(c, d.base, 'traces', { id: 't-2', action: 'show', signature: l.traces[0]?.signature }, 't-2');
    assert.equal((show['result'] as { goal_text: string }).goal_text, l.traces[0]?.goal_text);
    assert.ok(events.some((e) => (JSON.parse(e.body) as { type: string }).type === 'estop'));
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('safety rejections are published as events', async () => {
  const d = await device();
  const c = await client();
  try {
    const events = await watch(c, `${d.base}/events`);
    await d.r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 300 } }, { source: 'api', runId: 'x' }).catch(() => undefined);
    const e = await until(() => events.map((m) => JSON.parse(m.body) as { type: string; code?: string }).find((m) => m.type === 'safety_rejection'));
    assert.equal(e.code, 'ERR_SAFETY_RANGE');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('security: the production preset refuses a plaintext remote broker; the goal allow-list is enforced', async () => {
  const topics = topicsFor('llmos', 'x');
  const cfg = { base_topic: 'llmos', protocol_version: 5 as const, keepalive_s: 30, home_assistant: { enabled: false, prefix: 'ha' }, reconnect_ms: 100, max_reconnect_ms: 1000 };
  assert.throws(() => planConnection({ ...cfg, url: 'mqtt://broker.example.com:1883' }, 'x', 'production', topics), (e: unknown) => e instanceof LlmosError && /refuses a plaintext broker/.test(e.message));
  assert.doesNotThrow(() => planConnection({ ...cfg, url: 'mqtt://127.0.0.1:1883' }, 'x', 'production', topics));
  assert.doesNotThrow(() => planConnection({ ...cfg, url: 'mqtts://broker.example.com:8883' }, 'x', 'production', topics));
  assert.doesNotThrow(() => planConnection({ ...cfg, url: 'mqtt://broker.example.com:1883' }, 'x', 'development', topics));
  // A silently dead link must be noticed within the link-loss window: keepalive is shortened to fit.
  assert.equal(planConnection({ ...cfg, url: 'mqtt://127.0.0.1:1883', keepalive_s: 30 }, 'x', 'development', topics, 2000).options['keepalive'], 5);
  assert.equal(planConnection({ ...cfg, url: 'mqtt://127.0.0.1:1883', keepalive_s: 0 }, 'x', 'development', topics, 12000).options['keepalive'], 8);
  assert.equal(planConnection({ ...cfg, url: 'mqtt://127.0.0.1:1883', keepalive_s: 30 }, 'x', 'development', topics).options['keepalive'], 30);
  assert.throws(() => planConnection({ ...cfg, url: 'mqtts://b:8883', tls: { ca: '/nonexistent/ca.pem' } }, 'x', 'production', topics), /\/mqtt\/tls\/ca: cannot read/);
  const d = await device({ mqtt: { allow_goals: ['turn (on|off) the led', 'beep'] } });
  const c = await client();
  try {
    const ok = await request(c, d.base, 'execute', { id: 'a-1', goal: 'Turn on the LED' }, 'a-1');
    assert.equal(ok['ok'], true);
    const no = await request(c, d.base, 'execute', { id: 'a-2', goal: 'drive forward 1 meter' }, 'a-2');
    assert.match(String((no['error'] as { message: string }).message), /not on this device's allow-list/);
    assert.ok(d.r.writes().every((w) => w.actuator !== 'base'));
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('cmd/execute with stop words: "stop" stops motion, "e-stop" latches, whatever the allow-list; no goal text releases the e-stop', async () => {
  const d = await device({ mqtt: { allow_goals: ['beep'] } });
  const c = await client();
  try {
    const stop = await request(c, d.base, 'execute', { id: 'sw-1', goal: 'stop everything' }, 'sw-1');
    assert.equal(stop['ok'], true, JSON.stringify(stop));
    assert.equal((stop['result'] as { mode: string; trace: unknown }).mode, 'STOP');
    assert.equal((stop['result'] as { trace: unknown }).trace, null);
    assert.equal(d.r.os.gate.estopEngaged, false, 'a stop does not latch');
    const estop = await request(c, d.base, 'execute', { id: 'sw-2', goal: 'E-stop!' }, 'sw-2');
    assert.equal((estop['result'] as { mode: string }).mode, 'ESTOP');
    assert.equal(d.r.os.gate.estopEngaged, true);
    await request(c, d.base, 'execute', { id: 'sw-3', goal: 'release the e-stop' }, 'sw-3');
    assert.equal(d.r.os.gate.estopEngaged, true, 'still latched');
    assert.ok(d.r.writes().every((w) => w.actuator !== 'led' && w.actuator !== 'buzzer'), 'no trace ran');
  } finally {
    await c.endAsync();
    await d.close();
  }
});
