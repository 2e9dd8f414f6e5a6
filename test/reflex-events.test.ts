/**
 * What a reflex leaves behind and the actions besides forbid: the MQTT `events` a real broker
 * carries, a run whose open-ended motion a reflex stopped failing (never a success to learn),
 * an `estop` rule latching the e-stop, and the pi-rover's shipped bumper rule (a digital level)
 * on the GPIO driver over a fake sysfs tree.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import { parse, stringify } from 'yaml';
import { isLlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { FakeSysfs } from '../drivers/gpio/twins/fake-sysfs.js';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import type { ReflexEvent } from '../safety/reflex-engine.js';
import { simRobot, simWorldFile, tempDir } from './helpers.js';
import { startBroker, type TestBroker } from './mqtt-broker.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

async function until(pred: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** The shipped sim board with other reflexes (and nothing else changed). */
function simBoardWith(reflexes: unknown[]): string {
  const doc = parse(readFileSync(packagePath('boards', 'sim.yaml'), 'utf8')) as Record<string, unknown>;
  delete doc['$schema'];
  doc['reflexes'] = reflexes;
  const file = join(tempDir(), 'board.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

test('a refusal is published on MQTT events (type reflex, and a safety_rejection for the call)', async () => {
  const id = `reflex${process.pid}`;
  const r = await simRobot({ overrides: { device_id: id, sim: { world: simWorldFile({ start: { x: 2.3 } }) }, mqtt: { url: broker.url, protocol_version: broker.v5 ? 5 : 4 } } });
  const bridge = new MqttBridge({ os: r.os, allowLlm: false, log: r.os.log });
  const c = await mqtt.connectAsync(broker.url, { clientId: `t${process.pid}-reflex` });
  try {
    await bridge.start();
    await bridge.waitConnected();
    const events: Array<Record<string, unknown>> = [];
    c.on('message', (_topic, payload) => events.push(JSON.parse(payload.toString()) as Record<string, unknown>));
    await c.subscribeAsync(`${bridge.topics.base}/events`, { qos: 1 });
    const res = await r.os.execute('drive forward 1 meter', { source: 'mqtt' });
    assert.equal(res.error?.code, 'ERR_SAFETY_REFLEX');
    await until(() => events.some((e) => e['type'] === 'reflex') && events.some((e) => e['type'] === 'run_finished'), 'the events');
    const reflex = events.find((e) => e['type'] === 'reflex');
    assert.equal(reflex?.['rule'], 'keep-distance');
    assert.equal(reflex?.['kind'], 'refused');
    assert.equal(reflex?.['sensor'], 'distance');
    assert.equal(reflex?.['reading'], 0.2);
    assert.equal(reflex?.['code'], 'ERR_SAFETY_REFLEX');
    assert.ok(events.some((e) => e['type'] === 'safety_rejection' && e['code'] === 'ERR_SAFETY_REFLEX' && e['tool'] === 'drive'));
  } finally {
    await c.endAsync();
    await bridge.stop();
    await r.cleanup();
  }
});

test('an open-ended motion a reflex stops fails the run that started it, even while its next step is a wait', async () => {
  let quiet = false;
  const board = simBoardWith([{ id: 'winch-sensor', sensor: 'distance', below: 0.1, action: 'stop', actuators: ['winch'] }]);
  const r = await simRobot({ board, shippedTraces: false, simFaults: { blockRead: (s) => quiet && s.name === 'distance' } });
  try {
    writeFileSync(join(r.dir, 'traces', 'winch-spin.yaml'), stringify({
      goal_text: 'spin the winch for a while', success_rate: 1, usage_count: 0, origin: 'manual',
      tool_calls: [{ name: 'motor_set', args: { actuator: 'winch', speed: 0.5 } }, { name: 'wait', args: { ms: 3000 } }],
    }));
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    const events: ReflexEvent[] = [];
    r.os.gate.events.on('reflex', (e) => events.push(e));
    r.os.gate.events.on('write', ({ actuator }) => { if (actuator === 'winch') quiet = true; });
    const res = await r.os.execute('spin the winch for a while');
    assert.equal(res.mode, 'FOLLOWER');
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_SAFETY_REFLEX', JSON.stringify(res.error));
    assert.equal(events[0]?.kind, 'stopped');
    assert.ok((events[0]?.runs.length ?? 0) > 0, 'the event names the run');
    assert.equal(r.writes().filter((w) => w.actuator === 'winch').at(-1)?.value, 0, 'the winch stopped');
    const trace = r.os.traces.all().find((t) => t.trace.goal_text === 'spin the winch for a while')?.trace;
    assert.equal(trace?.usage_count, 1);
    assert.equal(trace?.success_rate, 0, 'counted as a failure, not a success');
  } finally {
    quiet = false;
    await r.cleanup();
  }
});

test('an estop rule latches the e-stop when its limit is reached mid-drive', async () => {
  const board = simBoardWith([{ id: 'too-close', sensor: 'distance', below: 1.5, action: 'estop', actuators: ['base'] }]);
  const r = await simRobot({ board, shippedTraces: false });
  try {
    await assert.rejects(r.os.gate.call({ name: 'drive', args: { distance_m: 2 } }, { source: 'api', runId: 'e' }), (e: unknown) => isLlmosError(e) && ['ERR_SAFETY_REFLEX', 'ERR_ESTOP_ENGAGED'].includes(e.code));
    assert.equal(r.os.gate.estopEngaged, true);
    assert.match(r.os.gate.estopStatus.reason ?? '', /reflex "too-close": distance reads/);
    await assert.rejects(r.os.gate.call({ name: 'drive', args: { distance_m: -0.5 } }, { source: 'api', runId: 'e' }), /e-stop/);
  } finally {
    await r.cleanup();
  }
});

test('the pi-rover\'s shipped bumper rule on the GPIO driver: a pressed bumper stops the drive; backing off works', async () => {
  const fake = new FakeSysfs({ layout: 'pi5', pwmChips: 3 });
  try {
    const doc = parse(readFileSync(packagePath('boards', 'pi-rover.yaml'), 'utf8')) as Record<string, unknown>;
    delete doc['$schema'];
    doc['drivers'] = { gpio: { type: 'gpio', sysfs_root: fake.gpioRoot, pwm_root: fake.pwmRoot, backend: 'sysfs', pwm_chip: 2 } };
    // The base and the bumper are what this rule is about (the e-stop button has its own tests).
    for (const k of ['estop']) delete doc[k];
    const actuators = doc['actuators'] as Record<string, unknown>;
    for (const k of ['pan', 'led']) delete actuators[k];
    // Lines a udev rule exported at boot (the fake tree has no kernel to export them).
    for (const n of [5, 6, 20, 21, 23]) fake.exported('gpio', fake.gpioRoot, 571 + n);
    for (const ch of [0, 1]) fake.exported('pwm', join(fake.pwmRoot, 'pwmchip2'), ch);
    const board = join(tempDir(), 'rover.yaml');
    writeFileSync(board, stringify(doc));
    const bumperLine = 23 + 571;
    const r = await simRobot({ board, realTime: true, shippedTraces: false });
    const api = { source: 'api' as const, runId: 'bump' };
    try {
      // The fake's value file holds the logical level (a kernel applies active_low): 0 = released.
      fake.setInput(bumperLine, 0);
      const pwm = (): string => fake.readPwm(2, 0, 'duty_cycle');
      const run = r.os.gate.call({ name: 'drive', args: { distance_m: 2 } }, api).then(() => undefined, (e: unknown) => e);
      await until(() => pwm() !== '0', 'the base moving');
      fake.setInput(bumperLine, 1); // pressed
      const err = await run;
      assert.ok(isLlmosError(err) && err.code === 'ERR_SAFETY_REFLEX' && /reflex "bumper": bumper reads true/.test(err.message), String(err));
      await until(() => pwm() === '0' && fake.readPwm(2, 1, 'duty_cycle') === '0', 'the base at rest');
      await assert.rejects(r.os.gate.call({ name: 'drive', args: { distance_m: 0.2 } }, api), /forward motion of base is refused/);
      await r.os.gate.call({ name: 'drive', args: { distance_m: -0.1, speed: 0.5 } }, api);
    } finally {
      await r.cleanup();
    }
  } finally {
    fake.remove();
  }
});
