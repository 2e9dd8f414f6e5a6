/**
 * Fuzzing the MQTT command surface against real Mosquitto (issue 18): arbitrary payloads, ids
 * and MQTT v5 properties on cmd/<name>. After every message the device is still connected
 * (never reconnected, never "offline") and answers a cmd/estop engage. The 100 ms answer goal
 * is measured in the bench; here the bound is only for liveness.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { IClientPublishOptions } from 'mqtt';
import { topicProblem } from '../runtime/mqtt/topics.js';
import { client, device, engageAnswered, watch } from './mqtt-harness.js';
import { needsV5, startBroker, type TestBroker } from './mqtt-broker.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

const NAMES = ['execute', 'estop', 'confirm', 'state', 'traces', '__proto__', 'constructor', 'toString', 'nope'];
const text = fc.string({ unit: 'binary', maxLength: 150 });
const hostileId = fc.oneof(text, fc.constantFrom('a/b', 'a_b', '+', '#', '\u0000x', '\uffff', '$SYS', 'x'.repeat(200), '', ' '), fc.integer(), fc.constant(null));
const body = fc.record({
  id: hostileId,
  goal: fc.oneof(text, fc.constantFrom('turn on the led', 'beep', 'drive forward 0.2 meters', 'read the distance sensor')),
  action: fc.constantFrom('engage', 'release', 'list', 'show', 'explode'),
  engagement: fc.oneof(fc.nat(), fc.integer(), fc.string()),
  confirmation: text,
  approve: fc.oneof(fc.boolean(), fc.string()),
  deadline: fc.oneof(fc.integer(), fc.string(), fc.constant(Date.now() + 60000)),
  signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), text),
  limit: fc.integer(),
  extra: fc.jsonValue({ maxDepth: 3 }),
}, { requiredKeys: [] });
const payload = fc.oneof(
  body.map((b) => Buffer.from(JSON.stringify(b))),
  fc.jsonValue({ maxDepth: 4 }).map((j) => Buffer.from(JSON.stringify(j) ?? 'null')),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  text.map((s) => Buffer.from(s)),
);
// Only topics the broker accepts from a publisher (else Mosquitto drops the fuzzing client, not the device).
const responseTopic = fc.oneof(text, fc.constantFrom('my/replies', 'llmos/other/cmd/estop', 'homeassistant/button/x/config', 'x/#', '$SYS/x', 'a//b'))
  .filter((t) => topicProblem(t) === undefined);
const properties = fc.record({
  responseTopic,
  correlationData: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  messageExpiryInterval: fc.nat({ max: 4294967295 }),
  // mqtt.js encodes an empty user property list in a way Mosquitto refuses (from the fuzzing client).
  userProperties: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 3 }),
  contentType: fc.string({ maxLength: 20 }),
}, { requiredKeys: [] });
const message = fc.record({ name: fc.constantFrom(...NAMES), payload, properties, retain: fc.boolean(), qos: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1> });

test('fuzz: after any command message the device stays connected and answers an e-stop engage', async (t) => {
  if (!needsV5(t, broker)) return;
  const d = await device(broker);
  const c = await client(broker, 5);
  let reconnects = 0;
  d.client().on('connect', () => { reconnects++; });
  const statuses = await watch(c, `${d.base}/status`);
  let k = 0;
  try {
    await fc.assert(fc.asyncProperty(message, async (m) => {
      const options: IClientPublishOptions = { qos: m.qos, retain: m.retain, properties: m.properties };
      if (process.env["LLMOS_FUZZ_DEBUG"]) process.stderr.write(`fuzz ${k} ${m.name} ${JSON.stringify(m.payload.toString().slice(0, 80))} ${JSON.stringify(m.properties)} retain=${m.retain}\n`);
      await c.publishAsync(`${d.base}/cmd/${m.name}`, m.payload, options);
      await engageAnswered(c, d, `fz-${++k}`);
      assert.equal(reconnects, 0, 'the device never had to reconnect');
      assert.ok(d.bridge.isConnected);
    }), { numRuns: Number(process.env['LLMOS_FUZZ_RUNS'] ?? 100), seed: process.env['LLMOS_FUZZ_SEED'] ? Number(process.env['LLMOS_FUZZ_SEED']) : undefined });
    assert.ok(!statuses.some((s) => s.body === 'offline'), 'never offline');
  } finally {
    // Retained fuzz messages would greet the next subscriber: clear them.
    for (const name of NAMES) await c.publishAsync(`${d.base}/cmd/${name}`, '', { qos: 1, retain: true });
    await c.endAsync();
    await d.close();
  }
});
