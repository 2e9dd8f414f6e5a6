/**
 * The MQTT contract against a real broker (Mosquitto when installed, aedes otherwise).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { LlmosError } from '../lib/errors.js';
import type { ConfigInput } from '../runtime/config.js';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import { planConnection } from '../runtime/mqtt/connection.js';
import { topicsFor } from '../runtime/mqtt/topics.js';
import { simRobot, type SimRobot } from './helpers.js';
import { needsV5, startBroker, type TestBroker } from './mqtt-broker.js';

let broker: TestBroker;
let seq = 0;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

interface Device { r: SimRobot; bridge: MqttBridge; base: string; close(): Promise<void> }

async function device(overrides: ConfigInput = {}, robot: Parameters<typeof simRobot>[0] = {}): Promise<Device> {
  const id = `dev${process.pid}x${++seq}`;
  const r = await simRobot({ ...robot, overrides: { device_id: id, ...overrides, mqtt: { url: broker.url, protocol_version: broker.v5 ? 5 : 4, reconnect_ms: 50, max_reconnect_ms: 400, ...overrides.mqtt } } });
  const bridge = new MqttBridge({ os: r.os, allowLlm: false, log: r.os.log });
  await bridge.start();
  await bridge.waitConnected();
  return { r, bridge, base: bridge.topics.base, close: async () => { await bridge.stop(); await r.cleanup(); } };
}

async function client(version: 4 | 5 = 4): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 100, clientId: `t${process.pid}-${++seq}` });
}

/** Collects messages on a topic filter. */
async function watch(c: MqttClient, filter: string): Promise<Array<{ topic: string; body: string; retain: boolean }>> {
  const got: Array<{ topic: string; body: string; retain: boolean }> = [];
  c.on('message', (topic, payload, packet) => {
    if (mqttMatch(filter, topic)) got.push({ topic, body: payload.toString(), retain: packet.retain });
  });
  await c.subscribeAsync(filter, { qos: 1 });
  return got;
}

function mqttMatch(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

async function until<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** A 3.1.1-style request: publish on cmd/<name>, wait for reply/<id>. */
async function request(c: MqttClient, base: string, name: string, payload: unknown, id?: string): Promise<Record<string, unknown>> {
  const replies = id ? await watch(c, `${base}/reply/${id}`) : [];
  await c.publishAsync(`${base}/cmd/${name}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  if (!id) return {};
  const m = await until(() => replies[0], 15000);
  return JSON.parse(m.body) as Record<string, unknown>;
}

test('status is retained "online" with a last will "offline"; state is retained JSON', async () => {
  const d = await device();
  const c = await client();
  try {
    const status = await watch(c, `${d.base}/status`);
    const state = await watch(c, `${d.base}/state`);
    const s = await until(() => status[0]);
    assert.equal(s.body, 'online');
    assert.equal(s.retain, true);
    const st = JSON.parse((await until(() => state[0])).body) as Record<string, unknown>;
    for (const k of ['device_id', 'mode', 'sentience', 'estop', 'active_goal', 'actuators']) assert.ok(k in st, k);
    assert.equal(st['mode'], 'BALANCED');
    // Abrupt loss: the broker publishes the will.
    (d.bridge as unknown as { client: MqttClient }).client.stream.destroy();
    await until(() => status.find((m) => m.body === 'offline'), 5000);
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('a v5 response topic that cannot carry a reply (a wildcard) is answered on reply/<id>; the device stays connected', async (t) => {
  if (!needsV5(t, broker)) return;
  const d = await device();
  const c = await client(5);
  try {
    const statuses = await watch(c, `${d.base}/status`);
    const replies = await watch(c, `${d.base}/reply/v5-bad`);
    await c.publishAsync(`${d.base}/cmd/state`, JSON.stringify({ id: 'v5-bad' }), { qos: 1, properties: { responseTopic: 'x/#' } });
    const m = await until(() => replies[0]);
    assert.match(m.body, /response topic \\"x\/#\\" cannot carry a reply/);
    const ok = await request(c, d.base, 'state', { id: 'after' }, 'after');
    assert.equal(ok['ok'], true, 'still serving');
    // Engaging the e-stop is always done, whatever the response topic.
    await c.publishAsync(`${d.base}/cmd/estop`, JSON.stringify({ id: 'v5-stop', action: 'engage' }), { qos: 1, properties: { responseTopic: `${d.base}/events` } });
    await until(() => d.r.os.gate.estopEngaged || undefined);
    assert.ok(!statuses.some((s) => s.body === 'offline'), 'never dropped off the broker');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('cmd/execute over 3.1.1: the reply on reply/<id> holds the result; events report the run; state is republished', async () => {
  const d = await device();
  const c = await client(4);
  try {
    const events = await watch(c, `${d.base}/events`);
    const states = await watch(c, `${d.base}/state`);
    await until(() => states[0]);
    const reply = await request(c, d.base, 'execute', { id: 'run-1', goal: 'turn on the led' }, 'run-1');
    assert.equal(reply['ok'], true);
    const result = reply['result'] as { mode: string; llm_calls: number; goal_text: string };
    assert.equal(result.mode, 'FOLLOWER');
    assert.equal(result.llm_calls, 0);
    assert.deepEqual(d.r.writes().map((w) => [w.actuator, w.value]), [['led', true]]);
    await until(() => events.find((e) => JSON.parse(e.body).type === 'run_finished'));
    const types = events.map((e) => (JSON.parse(e.body) as { type: string }).type);
    assert.ok(types.includes('run_started') && types.includes('step') && types.includes('run_finished'), types.join(','));
    await until(() => states.some((s) => (JSON.parse(s.body) as { actuators: { led: boolean } }).actuators.led === true) || undefined);
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('cmd/execute over MQTT v5: the reply goes to the response topic with the correlation data', async (t) => {
  if (!needsV5(t, broker)) return;
  const d = await device();
  const c = await client(5);
  try {
    const replies = await watch(c, 'my/replies');
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'v5-1', goal: 'beep' }), { qos: 1, properties: { responseTopic: 'my/replies', correlationData: Buffer.from('corr-42') } });
    const got: Array<{ corr: string }> = [];
    c.on('message', (topic, _p, packet) => { if (topic === 'my/replies') got.push({ corr: String(packet.properties?.correlationData ?? '') }); });
    const m = await until(() => replies[0]);
    assert.equal((JSON.parse(m.body) as { ok: boolean }).ok, true);
    await until(() => got[0]);
    assert.equal(got[0]?.corr, 'corr-42');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('invalid payloads get an error reply and change nothing', async () => {
  const d = await device();
  const c = await client();
  try {
    const notJson = await request(c, d.base, 'execute', '{"id":"bad-1", goal', undefined);
    void notJson;
    const missing = await request(c, d.base, 'execute', { id: 'bad-2' }, 'bad-2');
    assert.equal(missing['ok'], false);
    assert.match(String((missing['error'] as { message: string }).message), /\/goal: is required/);
    const extra = await request(c, d.base, 'execute', { id: 'bad-3', goal: 'beep', speed: 9 }, 'bad-3');
    assert.match(String((extra['error'] as { message: string }).message), /\/speed: is not a known field/);
    const unknown = await request(c, d.base, 'teleport', { id: 'bad-4' }, 'bad-4');
    assert.match(String((unknown['error'] as { message: string; code: string }).message), /unknown command "teleport"/);
    // Engaged first, so a release that slipped through could be seen: it must not.
    await d.r.os.estop('test', 'api');
    await request(c, d.base, 'estop', { action: 'release', engagement: d.r.os.gate.estopStatus.engagement }, undefined);
    assert.equal(d.r.os.gate.estopEngaged, true, 'a release without an id is refused');
    d.r.os.releaseEstop('test');
    const confirmNone = await request(c, d.base, 'confirm', { id: 'bad-5', confirmation: 'confirm-99', approve: true }, 'bad-5');
    assert.match(String((confirmNone['error'] as { message: string }).message), /no confirmation "confirm-99" is waiting/);
    const fixed = await request(c, d.base, 'execute', { id: 'bad-2', goal: 'beep' }, 'bad-2');
    assert.equal(fixed['ok'], true, 'a refused payload may be sent again, fixed, with its id');
    assert.deepEqual(d.r.writes().filter((w) => w.actuator !== 'buzzer'), []);
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('a repeated command id is not run twice; late commands and retained commands are not executed', async () => {
  const d = await device();
  const c = await client();
  try {
    const first = await request(c, d.base, 'execute', { id: 'dup-1', goal: 'turn on the led' }, 'dup-1');
    assert.equal(first['ok'], true);
    const again = await request(c, d.base, 'execute', { id: 'dup-1', goal: 'turn on the led' }, 'dup-1');
    assert.equal(again['duplicate'], true);
    assert.equal(d.r.writes().length, 1, 'executed once');
    const late = await request(c, d.base, 'execute', { id: 'late-1', goal: 'beep', deadline: new Date(Date.now() - 1000).toISOString() }, 'late-1');
    assert.equal(late['ok'], false);
    assert.match(String((late['error'] as { message: string }).message), /after its deadline; not executed/);
    // A retained command reaches a device with the retain flag when it (re)subscribes: refused.
    const other = `llmos/dev${process.pid}x${seq + 1}`;
    const replies = await watch(c, `${other}/reply/ret-1`);
    await c.publishAsync(`${other}/cmd/execute`, JSON.stringify({ id: 'ret-1', goal: 'beep' }), { qos: 1, retain: true });
    const d2 = await device();
    try {
      const r = await until(() => replies[0]);
      assert.match(r.body, /retained commands are not executed/);
      assert.ok(d2.r.writes().every((w) => w.actuator !== 'buzzer'), 'nothing beeped');
    } finally {
      await c.publishAsync(`${other}/cmd/execute`, '', { qos: 1, retain: true }); // clear the retained message
      await d2.close();
    }
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('MQTT v5 message expiry: a command that expired in the broker\'s queue is not executed', async (t) => {
  if (!needsV5(t, broker)) return;
  const d = await device({ mqtt: { persistent_session: true } });
  const c = await client(5);
  try {
    const bridgeClient = (d.bridge as unknown as { client: MqttClient }).client;
    await bridgeClient.endAsync(true); // the device drops off; the broker queues for its session
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'exp-short', goal: 'beep' }), { qos: 1, properties: { messageExpiryInterval: 1 } });
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'exp-long', goal: 'turn on the led' }), { qos: 1, properties: { messageExpiryInterval: 60 } });
    await sleep(2200);
    const replies = await watch(c, `${d.base}/reply/+`);
    bridgeClient.reconnect();
    await until(() => replies.find((m) => m.topic.endsWith('exp-long')), 8000);
    await sleep(300);
    assert.ok(!replies.some((m) => m.topic.endsWith('exp-short')), 'the expired command never arrived');
    assert.deepEqual(d.r.writes().map((w) => w.actuator), ['led']);
  } finally {
    await c.endAsync();
    await d.close();
  }
});

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

test('broker restart mid-run: the run finishes, the device reconnects, republishes its birth, and serves again', async () => {
  const d = await device({ safety: { broker_loss: { action: 'stop', after_ms: 5000 }, watchdog: { enabled: false } } }, { realTime: true });
  try {
    const c1 = await client();
    const pending = request(c1, d.base, 'execute', { id: 'long-1', goal: 'drive forward 0.5 meters' }, 'long-1');
    await until(() => d.r.writes().some((w) => w.actuator === 'base') || undefined, 5000);
    await broker.stop();
    await sleep(300);
    await broker.start();
    const reply = await pending;
    assert.equal(reply['ok'], true, 'the run completed and its reply was delivered after reconnecting');
    await d.bridge.waitConnected(5000);
    const c2 = await client();
    const status = await watch(c2, `${d.base}/status`);
    assert.equal((await until(() => status[0])).body, 'online');
    const again = await request(c2, d.base, 'execute', { id: 'after-1', goal: 'turn on the led' }, 'after-1');
    assert.equal(again['ok'], true, 'resubscribed');
    await c1.endAsync(true);
    await c2.endAsync();
  } finally {
    await d.close();
  }
});

test('link-loss failsafe: without the broker for after_ms, motion stops', async () => {
  const d = await device({ safety: { broker_loss: { action: 'stop', after_ms: 300 }, watchdog: { enabled: false } } }, { realTime: true });
  try {
    const run = d.r.os.execute('drive forward 2 meters', { source: 'mqtt' });
    await until(() => d.r.writes().some((w) => w.actuator === 'base' && (w.value as number) > 0.3) || undefined, 5000);
    await broker.stop();
    const res = await run;
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_ABORTED');
    const base = d.r.writes().filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.match(res.error?.message ?? '', /broker lost/);
  } finally {
    await broker.start();
    await d.close();
  }
});

test('a load of 1,000 commands: no loss, no duplicate execution', async () => {
  const d = await device();
  const c = await client();
  try {
    const replies = await watch(c, `${d.base}/reply/+`);
    const sig = d.r.os.decide('read the distance sensor').candidate?.trace.goal_signature as string;
    const before = d.r.os.traces.get(sig)?.trace.usage_count ?? 0;
    const N = 1000;
    for (let i = 0; i < N; i++) c.publish(`${d.base}/cmd/execute`, JSON.stringify({ id: `load-${i}`, goal: 'read the distance sensor' }), { qos: 1 });
    for (let i = 0; i < 100; i++) c.publish(`${d.base}/cmd/execute`, JSON.stringify({ id: `load-${i * 7}`, goal: 'read the distance sensor' }), { qos: 1 });
    // A liveness bound, not a timing goal (~5 s here; the bench measures speed).
    await until(() => (replies.length >= N + 100 ? true : undefined), 90000);
    const ids = replies.map((m) => m.topic.split('/').at(-1) as string);
    assert.equal(new Set(ids).size, N, 'every command answered');
    const fresh = replies.map((m) => JSON.parse(m.body) as { ok: boolean; duplicate?: boolean }).filter((b) => !b.duplicate);
    assert.equal(fresh.length, N);
    assert.ok(fresh.every((b) => b.ok));
    assert.equal((d.r.os.traces.get(sig)?.trace.usage_count ?? 0) - before, N, 'executed exactly once each');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('Home Assistant discovery: sensors, e-stop button and availability; republished when Home Assistant comes online', async () => {
  const prefix = `ha${process.pid}x${seq}`;
  const d = await device({ mqtt: { home_assistant: { enabled: true, prefix } } });
  const c = await client();
  try {
    const id = d.r.os.config.device_id;
    const topic = `${prefix}/device/${id}/config`;
    const seen = await watch(c, topic);
    await until(() => (seen.length >= 1 ? true : undefined));
    // Device-based discovery: availability and the state topic are shared, entities are under cmps.
    const config = JSON.parse(seen[0]!.body) as { state_topic: string; availability_topic: string; cmps: Record<string, Record<string, unknown>> };
    assert.equal(config.cmps['safety']?.['p'], 'sensor');
    assert.equal(config.cmps['safety']?.['state_topic'] ?? config.state_topic, `${d.base}/state`);
    assert.equal(config.availability_topic, `${d.base}/status`);
    const button = config.cmps['estop'];
    assert.equal(button?.['command_topic'], `${d.base}/cmd/estop`);
    const n = seen.length;
    await c.publishAsync(`${prefix}/status`, 'online');
    // Republished after a random delay of at most 2 s.
    await until(() => (seen.length >= n + 1 ? true : undefined), 30000);
    await c.publishAsync(String(button?.['command_topic']), String(button?.['payload_press']));
    await until(() => d.r.os.gate.estopEngaged || undefined);
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

test('TLS with a CA, and username/password, against Mosquitto', async (t) => {
  const { mosquittoPath, startMosquitto } = await import('./mqtt-broker.js');
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tempDir } = await import('./helpers.js');
  if (!mosquittoPath() || spawnSync('openssl', ['version']).status !== 0 || spawnSync('which', ['mosquitto_passwd']).status !== 0) {
    if (process.env['LLMOS_CI'] === '1') throw new Error('CI must have mosquitto and openssl');
    t.skip('needs mosquitto, mosquitto_passwd and openssl');
    return;
  }
  const dir = tempDir('llmos-tls-');
  const run = (cmd: string, args: string[]): void => { const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' }); assert.equal(r.status, 0, r.stderr); };
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=llmos-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.pem']);
  run('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'robot', 's3cret']);
  // Mosquitto started as root drops to its own user, which must be able to read these.
  const { chmodSync, readdirSync } = await import('node:fs');
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const tls = await startMosquitto({
    scheme: 'mqtts',
    extra: [`cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'server.pem')}`, `keyfile ${join(dir, 'server.key')}`, 'allow_anonymous false', `password_file ${join(dir, 'passwd')}`],
  });
  try {
    const good = await simRobot({ overrides: { preset: 'production', device_id: `tls${seq}`, mqtt: { url: tls.url, username: 'robot', password: 's3cret', tls: { ca: join(dir, 'ca.pem') }, reconnect_ms: 50 } } });
    const b1 = new MqttBridge({ os: good.os, allowLlm: false, log: good.os.log });
    await b1.start();
    await b1.waitConnected(5000);
    assert.equal(b1.isConnected, true);
    await b1.stop();
    await good.cleanup();
    const bad = await simRobot({ overrides: { device_id: `tls${seq}b`, mqtt: { url: tls.url, username: 'robot', password: 'wrong', tls: { ca: join(dir, 'ca.pem') }, reconnect_ms: 50 } } });
    const b2 = new MqttBridge({ os: bad.os, allowLlm: false, log: bad.os.log });
    await b2.start();
    await assert.rejects(b2.waitConnected(1500), /not connected/);
    await b2.stop();
    await bad.cleanup();
  } finally {
    await tls.stop();
  }
});

test('run-follower --serve --mqtt URL: serves commands until SIGTERM, then says offline', async () => {
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const { cpSync } = await import('node:fs');
  const { packagePath } = await import('../lib/paths.js');
  const { tempDir } = await import('./helpers.js');
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const id = `cli${process.pid}`;
  // aedes speaks 3.1.1 only; the config file says which protocol the device uses.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'config.yaml'), `mqtt:\n  protocol_version: ${broker.v5 ? 5 : 4}\n`);
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--serve', '--config', join(dir, 'config.yaml'), '--mqtt', broker.url, '--device-id', id, '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const c = await client();
  try {
    const status = await watch(c, `llmos/${id}/status`);
    // Bounds for a loaded machine (a cold start of the CLI may take seconds there).
    await until(() => status.find((m) => m.body === 'online'), 30000);
    const reply = await request(c, `llmos/${id}`, 'execute', { id: 'cli-1', goal: 'wave hello' }, 'cli-1');
    assert.equal((reply['result'] as { mode: string }).mode, 'FOLLOWER');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    await until(() => status.find((m) => m.body === 'offline'), 15000);
    assert.match(err, /serving llmos\/cli\d+\/cmd\/\+/);
  } finally {
    child.kill('SIGKILL');
    await c.endAsync();
  }
});
