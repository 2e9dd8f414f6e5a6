/**
 * The MQTT contract against a real broker (Mosquitto when installed, aedes otherwise): status, state,
 * replies, payload checks, repeated, late, retained and expired commands.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { needsV5 } from './mqtt-broker.js';
import { useBroker, broker, device, client, watch, until, request } from './mqtt-suite.js';

useBroker();

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
    const otherId = `ret${process.pid}`;
    const other = `llmos/${otherId}`;
    const replies = await watch(c, `${other}/reply/ret-1`);
    await c.publishAsync(`${other}/cmd/execute`, JSON.stringify({ id: 'ret-1', goal: 'beep' }), { qos: 1, retain: true });
    const d2 = await device({ device_id: otherId });
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
