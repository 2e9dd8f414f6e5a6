/**
 * Hostile MQTT input against a real broker (Mosquitto; issue 18 items 1, 2, 3, 6, 7): ids that
 * cannot form a topic level, retained commands on a live subscription, response topics aimed at
 * other systems, prototype keys as command names, repeated and pre-sent ids.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { analyzeGoal, bindQuantities, type ParamSlot } from '../runtime/matcher/params.js';
import { client, device, engageAnswered, request, until, watch } from './mqtt-harness.js';
import { needsV5, startBroker, type TestBroker } from './mqtt-broker.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

function countConnects(c: MqttClient): { n: number } {
  const box = { n: 0 };
  c.on('connect', () => { box.n++; });
  return box;
}

test('an id with a control character or a non-character is refused by the schema; the device stays on the broker and serves an e-stop', async () => {
  const d = await device(broker);
  const c = await client(broker);
  try {
    const reconnects = countConnects(d.client());
    const statuses = await watch(c, `${d.base}/status`);
    const events = await watch(c, `${d.base}/events`);
    for (const [k, bad] of ['\u0000x', '\u0001', '\uffff', 'a\u007fb', '\ud800', 'x'.repeat(129)].entries()) {
      await c.publishAsync(`${d.base}/cmd/state`, JSON.stringify({ id: bad }), { qos: 1 });
      const ev = await until(() => events.map((e) => JSON.parse(e.body) as { type: string; error?: { message: string } }).filter((e) => e.type === 'invalid_command')[k]);
      assert.match(ev.error?.message ?? '', /\/id: must match pattern|\/id: must NOT have more than 128/);
      await engageAnswered(c, d, `alive-${k}`);
    }
    assert.equal(reconnects.n, 0, 'the device never reconnected');
    assert.ok(d.bridge.isConnected);
    assert.ok(!statuses.some((s) => s.body === 'offline'), 'never dropped off the broker');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('a publish to a topic the broker would call malformed is never sent: the session is not poisoned', async () => {
  const d = await device(broker);
  const c = await client(broker);
  try {
    const reconnects = countConnects(d.client());
    const publish = (d.bridge as unknown as { publish(t: string, p: string, o: object, q: boolean): void }).publish.bind(d.bridge);
    publish(`${d.base}/reply/\u0000x`, '{}', { qos: 1 }, true);
    publish(`${d.base}/reply/\uffff`, '{}', { qos: 1 }, true);
    publish(`${d.base}/reply/+`, '{}', { qos: 1 }, true);
    await engageAnswered(c, d, 'alive-1');
    // Once more after a reconnect: nothing queued comes back to drop the device again.
    d.client().stream.destroy();
    await until(() => reconnects.n >= 1 || undefined);
    await engageAnswered(c, d, 'alive-2');
    assert.equal(reconnects.n, 1, 'one reconnect (the one we caused), no more');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('ids a/b and a_b never collide: a/b is refused (answered as an event), a_b runs and is answered alone on reply/a_b', async () => {
  const d = await device(broker);
  const c = await client(broker);
  try {
    const replies = await watch(c, `${d.base}/reply/+`);
    const events = await watch(c, `${d.base}/events`);
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'a/b', goal: 'turn on the led' }), { qos: 1 });
    await until(() => events.find((e) => (JSON.parse(e.body) as { type: string }).type === 'invalid_command'));
    const r = await request(c, d.base, 'execute', { id: 'a_b', goal: 'beep' }, 'a_b');
    assert.equal(r['ok'], true);
    assert.equal(r['duplicate'], undefined, 'not taken for a repeat of a/b');
    await engageAnswered(c, d, 'alive');
    assert.deepEqual(replies.filter((m) => m.topic.endsWith('/a_b')).length, 1);
    assert.ok(d.r.writes().every((w) => w.actuator !== 'led'), 'a/b never ran');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('a retained cmd/execute published to a live subscription (v5 retain-as-published) is refused and never runs', async (t) => {
  if (!needsV5(t, broker)) return;
  const d = await device(broker);
  const c = await client(broker, 5);
  try {
    const replies = await watch(c, `${d.base}/reply/ret-live`);
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'ret-live', goal: 'turn on the led' }), { qos: 1, retain: true });
    const m = await until(() => replies[0]);
    assert.match(m.body, /retained commands are not executed/);
    await c.publishAsync(`${d.base}/cmd/execute`, '', { qos: 1, retain: true }); // clear it
    await engageAnswered(c, d, 'alive');
    assert.ok(d.r.writes().every((w) => w.actuator !== 'led'), 'the retained command never ran');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('response topics under any device\'s commands, this device\'s own topics or the discovery prefix are refused; reply_prefix limits them', async (t) => {
  if (!needsV5(t, broker)) return;
  const d = await device(broker, { mqtt: { home_assistant: { enabled: false, prefix: `ha${process.pid}` } } });
  const c = await client(broker, 5);
  try {
    const other = `llmos/victim${process.pid}/cmd/estop`;
    const targets = [other, `llmos/victim${process.pid}/cmd/execute`, `homeassistant/button/x/config`, `ha${process.pid}/switch/y/config`, `${d.base}/state`, `elsewhere/robot/cmd/go`];
    const hits = await watch(c, '#');
    for (const [k, rt] of targets.entries()) {
      const id = `rt-${k}`;
      const replies = await watch(c, `${d.base}/reply/${id}`);
      await c.publishAsync(`${d.base}/cmd/state`, JSON.stringify({ id }), { qos: 1, properties: { responseTopic: rt, correlationData: Buffer.from('c') } });
      const m = await until(() => replies[0]);
      assert.match(m.body, /cannot carry a reply/, rt);
    }
    await engageAnswered(c, d, 'alive');
    for (const rt of targets) assert.ok(!hits.some((h) => h.topic === rt && h.body.includes('"rt-')), `no reply was published on ${rt}`);
    // A fine response topic still works.
    const mine = await watch(c, `my${process.pid}/replies`);
    await c.publishAsync(`${d.base}/cmd/state`, JSON.stringify({ id: 'rt-ok' }), { qos: 1, properties: { responseTopic: `my${process.pid}/replies` } });
    assert.equal((JSON.parse((await until(() => mine[0])).body) as { ok: boolean }).ok, true);
  } finally {
    await c.endAsync();
    await d.close();
  }
  const p = await device(broker, { mqtt: { reply_prefix: `answers${process.pid}` } });
  const c2 = await client(broker, 5);
  try {
    const inside = await watch(c2, `answers${process.pid}/x`);
    await c2.publishAsync(`${p.base}/cmd/state`, JSON.stringify({ id: 'rp-1' }), { qos: 1, properties: { responseTopic: `answers${process.pid}/x` } });
    assert.equal((JSON.parse((await until(() => inside[0])).body) as { ok: boolean }).ok, true);
    const replies = await watch(c2, `${p.base}/reply/rp-2`);
    await c2.publishAsync(`${p.base}/cmd/state`, JSON.stringify({ id: 'rp-2' }), { qos: 1, properties: { responseTopic: `my${process.pid}/replies` } });
    assert.match((await until(() => replies[0])).body, /not under mqtt.reply_prefix/);
  } finally {
    await c2.endAsync();
    await p.close();
  }
});

test('cmd/__proto__, cmd/constructor and cmd/toString are unknown commands, not internal errors', async () => {
  const d = await device(broker);
  const c = await client(broker);
  try {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = await request(c, d.base, name, { id: `p-${name.replace(/_/g, '')}` }, `p-${name.replace(/_/g, '')}`);
      const err = r['error'] as { code: string; message: string };
      assert.equal(err.code, 'ERR_MQTT', name);
      assert.match(err.message, /unknown command/, name);
    }
    await engageAnswered(c, d, 'alive');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('a trace parameter named "constructor" (or "toString") is bound only when the goal gives it a value', () => {
  for (const name of ['constructor', 'toString', '__proto__']) {
    const slot: ParamSlot = { name, kind: 'length', toBase: 1, explicit: true, occurrences: [{ step: 0, arg: 'distance_m', scale: 1 }] };
    const b = bindQuantities(analyzeGoal('drive forward'), [], new Map([[name, slot]]));
    assert.ok(b.issues.some((i) => i.includes(`parameter ${name} has no value`)), `${name}: ${JSON.stringify(b.issues)}`);
  }
});

test('a repeated id that arrives while the original waits gets the original\'s final result; the command runs once', async () => {
  const d = await device(broker, { safety: { hooks: [{ event: 'pre_tool_use', tool: 'digital_write', decision: 'ASK', reason: 'hold' }] } });
  const c = await client(broker);
  try {
    const events = await watch(c, `${d.base}/events`);
    const replies = await watch(c, `${d.base}/reply/q-1`);
    let runs = 0;
    d.r.os.events.on('run_started', () => { runs++; });
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'q-1', goal: 'turn on the led' }), { qos: 1 });
    const ask = await until(() => events.map((e) => JSON.parse(e.body) as { type: string; id?: string }).find((e) => e.type === 'confirm_request'));
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'q-1', goal: 'turn on the led' }), { qos: 1 });
    // Commands are taken in order: once this is answered, the repeat has been handled.
    assert.equal((await request(c, d.base, 'state', { id: 'probe' }, 'probe'))['ok'], true);
    assert.equal(replies.length, 0, 'the repeat is not answered before the original finishes');
    const ans = await request(c, d.base, 'confirm', { id: 'c-1', confirmation: ask.id, approve: true }, 'c-1');
    assert.equal(ans['ok'], true);
    await until(() => (replies.length >= 2 ? true : undefined));
    const bodies = replies.map((m) => JSON.parse(m.body) as { ok: boolean; pending?: boolean; duplicate?: boolean; result?: { goal: string } });
    assert.deepEqual(bodies.map((b) => b.duplicate === true).sort(), [false, true]);
    assert.ok(bodies.every((b) => b.pending === undefined && b.result?.goal === 'turn on the led'), JSON.stringify(bodies));
    assert.deepEqual(bodies[0]?.result, bodies[1]?.result, 'the same final result');
    assert.equal(runs, 1, 'ran once');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('a pre-sent id cannot swallow a later, different command; remembered answers expire', async () => {
  const d = await device(broker, { mqtt: { dedupe_window_ms: 300 } });
  const c = await client(broker);
  try {
    let runs = 0;
    d.r.os.events.on('run_started', () => { runs++; });
    const first = await request(c, d.base, 'execute', { id: 'pre-1', goal: 'beep' }, 'pre-1');
    assert.equal(first['ok'], true);
    const replies = await watch(c, `${d.base}/reply/pre-1`);
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'pre-1', goal: 'turn on the led' }), { qos: 1 });
    const second = JSON.parse((await until(() => replies.find((m) => (JSON.parse(m.body) as { result?: { goal: string } }).result?.goal === 'turn on the led'))).body) as Record<string, unknown>;
    assert.equal(second['duplicate'], undefined);
    await until(() => d.r.writes().some((w) => w.actuator === 'led') || undefined);
    assert.equal(runs, 2, 'both ran: the later command was not swallowed');
    // An exact repeat within the window is answered from memory; after it, the id runs again.
    const t0 = Date.now();
    const again = await request(c, d.base, 'execute', { id: 'pre-2', goal: 'beep' }, 'pre-2');
    assert.equal(again['ok'], true);
    const rep = await watch(c, `${d.base}/reply/pre-2`);
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'pre-2', goal: 'beep' }), { qos: 1 });
    const r2 = JSON.parse((await until(() => rep[0])).body) as Record<string, unknown>;
    if (Date.now() - t0 < 250) assert.equal(r2['duplicate'], true);
    await until(() => (Date.now() - t0 > 400 ? true : undefined));
    const n = runs;
    await c.publishAsync(`${d.base}/cmd/execute`, JSON.stringify({ id: 'pre-2', goal: 'beep' }), { qos: 1 });
    await until(() => (runs > n ? true : undefined));
  } finally {
    await c.endAsync();
    await d.close();
  }
});
