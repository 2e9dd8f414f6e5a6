/**
 * The operator over MQTT against a real broker: cmd/call (one tool call through the gate),
 * cmd/teach (a demonstration made of cmd/call calls, saved as a trace that then replays), and
 * sensor telemetry (telemetry/<sensor> and the latest readings in the retained state).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBroker, type TestBroker } from './mqtt-broker.js';
import { client as mqttClient, device as mqttDevice, request, until, watch as watchTopic } from './mqtt-harness.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

test('cmd/call: a tool call moves the board through the gate; bad arguments and a latched e-stop are refused and move nothing', async () => {
  const d = await mqttDevice(broker);
  const c = await mqttClient(broker);
  try {
    const ok = await request(c, d.base, 'call', { id: 'c1', tool: 'servo_move', args: { actuator: 'arm', angle: 60 } }, 'c1');
    assert.equal(ok['ok'], true, JSON.stringify(ok));
    assert.ok(d.r.writes().some((w) => w.actuator === 'arm' && w.value === 60), 'the arm moved to 60');
    const before = d.r.writes().length;
    const range = await request(c, d.base, 'call', { id: 'c2', tool: 'servo_move', args: { actuator: 'arm', angle: 500 } }, 'c2');
    assert.equal((range['error'] as { code: string }).code, 'ERR_SAFETY_RANGE');
    const unknown = await request(c, d.base, 'call', { id: 'c3', tool: 'launch', args: {} }, 'c3');
    assert.equal((unknown['error'] as { code: string }).code, 'ERR_TOOL_UNKNOWN');
    await d.r.os.estop('test', 'test');
    const latched = await request(c, d.base, 'call', { id: 'c4', tool: 'servo_move', args: { actuator: 'arm', angle: 30 } }, 'c4');
    assert.equal((latched['error'] as { code: string }).code, 'ERR_ESTOP_ENGAGED');
    assert.ok(!d.r.writes().slice(before).some((w) => w.actuator === 'arm' && (w.value === 500 || w.value === 30)), 'no refused value was written');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('cmd/teach: calls made while teaching become a trace that cmd/execute replays with its own number', async () => {
  const d = await mqttDevice(broker);
  const c = await mqttClient(broker);
  try {
    const none = await request(c, d.base, 'teach', { id: 't0', action: 'save' }, 't0');
    assert.equal((none['error'] as { code: string }).code, 'ERR_USAGE', 'no session yet');
    assert.equal((await request(c, d.base, 'teach', { id: 't1', action: 'start', goal: 'tilt the gripper to 40 degrees' }, 't1'))['ok'], true);
    const again = await request(c, d.base, 'teach', { id: 't1b', action: 'start', goal: 'other' }, 't1b');
    assert.equal((again['error'] as { code: string }).code, 'ERR_USAGE', 'one session at a time');
    assert.equal((await request(c, d.base, 'call', { id: 't2', tool: 'servo_move', args: { actuator: 'gripper', angle: 40 } }, 't2'))['ok'], true);
    const refused = await request(c, d.base, 'call', { id: 't3', tool: 'servo_move', args: { actuator: 'gripper', angle: 999 } }, 't3');
    assert.equal(refused['ok'], false);
    const saved = await request(c, d.base, 'teach', { id: 't4', action: 'save' }, 't4');
    assert.equal(saved['ok'], true, JSON.stringify(saved));
    const result = saved['result'] as { signature: string; parameters: string[] };
    assert.deepEqual(result.parameters, ['angle'], 'the refused call was not recorded; 40 became a parameter');
    const run = await request(c, d.base, 'execute', { id: 't5', goal: 'tilt the gripper to 25 degrees' }, 't5');
    const r = run['result'] as { mode: string; trace: string; params: Record<string, number>; llm_calls: number; ok: boolean };
    assert.deepEqual([r.mode, r.trace, r.params['angle'], r.llm_calls, r.ok], ['FOLLOWER', result.signature, 25, 0, true]);
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('telemetry: readings on telemetry/<sensor> at the configured interval, and the latest in the state', async () => {
  const d = await mqttDevice(broker, { mqtt: { telemetry: { interval_ms: 100, sensors: ['distance'] } } }, { realTime: true });
  const c = await mqttClient(broker);
  try {
    const tele = await watchTopic(c, `${d.base}/telemetry/+`);
    const states = await watchTopic(c, `${d.base}/state`);
    const first = await until(() => tele.find((m) => m.topic.endsWith('/telemetry/distance')));
    const reading = JSON.parse(first.body) as { value: number; at: string };
    assert.equal(typeof reading.value, 'number');
    // Several rounds of the timer have passed: a battery reading would have come by now.
    await until(() => tele.filter((m) => m.topic.endsWith('/telemetry/distance')).length >= 3);
    assert.deepEqual([...new Set(tele.map((m) => m.topic.split('/').at(-1)))], ['distance'], 'only the sensors asked for');

    await request(c, d.base, 'state', { id: 's1' }, 's1');
    await until(() => states.find((m) => (JSON.parse(m.body) as { sensors?: Record<string, unknown> }).sensors?.['distance'] !== undefined));
  } finally {
    await c.endAsync();
    await d.close();
  }
  await assert.rejects(mqttDevice(broker, { mqtt: { telemetry: { interval_ms: 100, sensors: ['sonar'] } } }), /telemetry\/sensors: "sonar" is not a sensor/);
  await assert.rejects(mqttDevice(broker, { mqtt: { telemetry: { interval_ms: 50 } } }), /interval_ms/, 'faster than every 100 ms is refused, not silently slowed');
});

test('cmd/call on a device that limits remote goals: refused unless mqtt.allow_calls names the tool', async () => {
  const d = await mqttDevice(broker, { mqtt: { allow_goals: ['wave hello'], allow_calls: ['servo_move'] } });
  const c = await mqttClient(broker);
  try {
    const drive = await request(c, d.base, 'call', { id: 'g1', tool: 'drive', args: { distance_m: 1 } }, 'g1');
    assert.match((drive['error'] as { message: string }).message, /not on this device's list for remote calls/);
    assert.ok(!d.r.writes().some((w) => w.actuator === 'base'), 'the base never moved');
    assert.equal((await request(c, d.base, 'call', { id: 'g2', tool: 'servo_move', args: { actuator: 'arm', angle: 80 } }, 'g2'))['ok'], true);
  } finally {
    await c.endAsync();
    await d.close();
  }
  const limited = await mqttDevice(broker, { mqtt: { allow_goals: ['wave hello'] } });
  const c2 = await mqttClient(broker);
  try {
    const r = await request(c2, limited.base, 'call', { id: 'g3', tool: 'servo_move', args: { actuator: 'arm', angle: 80 } }, 'g3');
    assert.match((r['error'] as { message: string }).message, /remote tool calls need mqtt.allow_calls/);
    assert.ok(!limited.r.writes().some((w) => w.actuator === 'arm'));
  } finally {
    await c2.endAsync();
    await limited.close();
  }
});
