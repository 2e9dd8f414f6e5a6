/**
 * MQTT consumers written by others, against real Mosquitto: the Home Assistant discovery config
 * checked against Home Assistant's MQTT discovery documentation (device-based discovery), and
 * Node-RED 4.1 running headless as a consumer that reads discovery, state and availability and
 * presses the discovered e-stop button. Home Assistant itself cannot be installed here.
 * A counterpart that cannot start skips locally with the reason and fails in CI (LLMOS_CI=1).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import { announceDelay, ANNOUNCE_JITTER_MS, MODE_OPTIONS } from '../runtime/mqtt/home-assistant.js';
import { simRobot, tempDir, type SimRobot } from './helpers.js';
import { freePort, mosquittoPath, startMosquitto, type TestBroker } from './mqtt-broker.js';
import { counterparts, unavailable } from './real/uno.js';

let broker: TestBroker | undefined;
let seq = 0;
before(async () => { if (mosquittoPath()) broker = await startMosquitto(); });
after(async () => { await broker?.stop(); });

function needBroker(t: TestContext): TestBroker | undefined {
  if (!broker) { unavailable(t, 'mosquitto is not installed (apt-get install mosquitto)'); return undefined; }
  return broker;
}

interface Device { r: SimRobot; bridge: MqttBridge; base: string; id: string; close(): Promise<void> }

async function device(b: TestBroker, prefix: string, enabled = true, id = `cons${process.pid}x${++seq}`): Promise<Device> {
  const r = await simRobot({ overrides: { device_id: id, mqtt: { url: b.url, protocol_version: 5, reconnect_ms: 50, max_reconnect_ms: 400, home_assistant: { enabled, prefix } } } });
  const bridge = new MqttBridge({ os: r.os, allowLlm: false, log: r.os.log });
  await bridge.start();
  await bridge.waitConnected();
  return { r, bridge, id, base: bridge.topics.base, close: async () => { await bridge.stop(); await r.cleanup(); } };
}

interface Msg { topic: string; body: string; retain: boolean; at: number }

async function watcher(b: TestBroker, filters: string[]): Promise<{ c: MqttClient; got: Msg[] }> {
  const c = await mqtt.connectAsync(b.url, { protocolVersion: 5, clientId: `cw${process.pid}-${++seq}` });
  const got: Msg[] = [];
  c.on('message', (topic, payload, packet) => { got.push({ topic, body: payload.toString(), retain: packet.retain, at: Date.now() }); });
  await c.subscribeAsync(filters, { qos: 1 });
  return { c, got };
}

async function until<T>(fn: () => T | undefined | false, what: string, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Cmp = Record<string, unknown>;
interface DeviceConfig { device: Record<string, unknown>; origin: Record<string, unknown>; availability_topic: string; state_topic: string; cmps: Record<string, Cmp> }

test('discovery follows Home Assistant\'s MQTT discovery docs: one device config with origin, cmps, an enum mode, diagnostic sentience values, battery and distance with device classes, the button at QoS 1', async (t) => {
  const b = needBroker(t);
  if (!b) return;
  const prefix = `hadoc${process.pid}x${++seq}`;
  const d = await device(b, prefix);
  const w = await watcher(b, [`${prefix}/#`]);
  try {
    const topic = `${prefix}/device/${d.id}/config`;
    const m = await until(() => w.got.find((x) => x.topic === topic && x.body !== ''), 'the device config');
    assert.equal(m.retain, true, 'discovery configs are retained');
    const cfg = JSON.parse(m.body) as DeviceConfig;
    // device and origin are mandatory at the root of a device-based config.
    assert.equal(typeof cfg.origin['name'], 'string');
    assert.equal(cfg.origin['sw_version'], d.bridge['version' as keyof MqttBridge]);
    assert.deepEqual(cfg.device['identifiers'], [`llmos-${d.id}`]);
    assert.equal(cfg.availability_topic, `${d.base}/status`);
    assert.equal(cfg.state_topic, `${d.base}/state`);
    for (const [key, c] of Object.entries(cfg.cmps)) {
      assert.ok(typeof c['p'] === 'string', `${key}: every component names its platform (p)`);
      assert.match(String(c['unique_id']), /^llmos_/, `${key}: unique_id`);
    }
    assert.equal(cfg.cmps['estop']?.['p'], 'button');
    assert.equal(cfg.cmps['estop']?.['qos'], 1);
    assert.equal(cfg.cmps['estop']?.['command_topic'], `${d.base}/cmd/estop`);
    assert.deepEqual({ p: cfg.cmps['mode']?.['p'], device_class: cfg.cmps['mode']?.['device_class'], options: cfg.cmps['mode']?.['options'] }, { p: 'sensor', device_class: 'enum', options: [...MODE_OPTIONS] });
    const state = await watcher(b, [`${d.base}/state`]);
    const mode = (JSON.parse((await until(() => state.got[0], 'the retained state')).body) as { mode: string }).mode;
    await state.c.endAsync();
    assert.ok((MODE_OPTIONS as readonly string[]).includes(mode), `state.mode ${mode} is one of the options`);
    for (const v of ['safety', 'curiosity', 'energy', 'confidence']) assert.equal(cfg.cmps[v]?.['entity_category'], 'diagnostic', `${v} is diagnostic`);
    // The sim board: battery as a 0..1 fraction, distance in metres.
    assert.deepEqual([cfg.cmps['battery']?.['device_class'], cfg.cmps['battery']?.['unit_of_measurement']], ['battery', '%']);
    assert.deepEqual([cfg.cmps['distance']?.['device_class'], cfg.cmps['distance']?.['unit_of_measurement']], ['distance', 'm']);
    assert.equal(cfg.cmps['estop_state']?.['device_class'], 'safety');
    // No single-component configs of earlier versions are left retained.
    assert.ok(w.got.filter((x) => x.topic !== topic && x.topic.endsWith('/config')).every((x) => x.body === ''), 'old per-entity topics only ever cleared');
  } finally {
    await w.c.endAsync();
    await d.close();
  }
});

test('Home Assistant\'s birth message: the config is announced again, after a random delay of up to 2 s', async (t) => {
  assert.equal(announceDelay(() => 0), 0);
  assert.ok(announceDelay(() => 0.9999) < ANNOUNCE_JITTER_MS);
  const b = needBroker(t);
  if (!b) return;
  const prefix = `habirth${process.pid}x${++seq}`;
  const d = await device(b, prefix);
  const topic = `${prefix}/device/${d.id}/config`;
  const w = await watcher(b, [topic]);
  try {
    await until(() => w.got.length >= 1 || undefined, 'the retained config');
    const n = w.got.length;
    for (let i = 0; i < 3; i++) await w.c.publishAsync(`${prefix}/status`, 'online', { qos: 1 });
    const announced = await until(() => w.got[n], 're-announce');
    assert.equal(announced.body, w.got[0]!.body, 'the same config again');
  } finally {
    await w.c.endAsync();
    await d.close();
  }
});

test('turning discovery off clears the retained config; a button press without an id is reported as an engage naming its engagement', async (t) => {
  const b = needBroker(t);
  if (!b) return;
  const prefix = `haoff${process.pid}x${++seq}`;
  const id = `consoff${process.pid}x${++seq}`;
  const topic = `${prefix}/device/${id}/config`;
  const on = await device(b, prefix, true, id);
  const w = await watcher(b, [topic, `${on.base}/events`]);
  try {
    const cfg = JSON.parse((await until(() => w.got.find((x) => x.topic === topic && x.body !== ''), 'config')).body) as DeviceConfig;
    const button = cfg.cmps['estop']!;
    await w.c.publishAsync(String(button['command_topic']), String(button['payload_press']), { qos: 1 });
    await until(() => on.r.os.gate.estopEngaged || undefined, 'the e-stop engaged');
    const events = (): Array<Record<string, unknown>> => w.got.filter((x) => x.topic === `${on.base}/events`).map((x) => JSON.parse(x.body) as Record<string, unknown>);
    const reply = await until(() => events().find((e) => e['type'] === 'command_reply'), 'the press reported on events');
    assert.equal(reply['command'], 'estop');
    assert.equal(reply['ok'], true);
    assert.deepEqual(reply['result'], { engaged: true, engagement: on.r.os.gate.estopStatus.engagement });
    assert.ok(!events().some((e) => e['type'] === 'invalid_command'), 'not an invalid command');
  } finally {
    await on.close();
  }
  const off = await device(b, prefix, false, id);
  try {
    await until(() => w.got.some((x) => x.topic === topic && x.body === '') || undefined, 'the config cleared');
    // A new subscriber gets no retained config: the marker (subscribed after) arrives, the config does not.
    const marker = `${prefix}/marker`;
    const p = await mqtt.connectAsync(b.url, { protocolVersion: 5, clientId: `cp${process.pid}-${++seq}` });
    await p.publishAsync(marker, 'm', { qos: 1, retain: true });
    const late = await watcher(b, [topic, marker]);
    await until(() => late.got.some((x) => x.topic === marker) || undefined, 'the marker');
    assert.deepEqual(late.got.filter((x) => x.topic === topic), [], 'no retained config left');
    await p.publishAsync(marker, '', { qos: 1, retain: true });
    await p.endAsync();
    await late.c.endAsync();
  } finally {
    await w.c.endAsync();
    await off.close();
  }
});

/** A Node-RED flow: discovery, state and availability in (logged to a file); presses the e-stop once the device is online and not engaged. */
function flow(port: number, prefix: string, base: string, log: string): unknown[] {
  const press = `
const seen = context.get('seen') || {};
if (msg.topic.endsWith('/config')) {
  if (!msg.payload || typeof msg.payload !== 'object') return null;
  const cmps = msg.payload.cmps || msg.payload.components || {};
  seen.button = Object.values(cmps).find((c) => (c.p || c.platform) === 'button');
} else if (msg.topic.endsWith('/status')) seen.online = msg.payload === 'online';
else if (msg.topic.endsWith('/state')) seen.state = msg.payload;
context.set('seen', seen);
const line = { payload: JSON.stringify({ topic: msg.topic, payload: msg.payload }) };
if (seen.button && seen.online && seen.state && seen.state.estop && seen.state.estop.engaged === false && !context.get('pressed')) {
  context.set('pressed', true);
  return [line, { topic: seen.button.command_topic, payload: seen.button.payload_press, qos: seen.button.qos }];
}
return [line, null];`;
  return [
    { id: 'f1a0000000000001', type: 'tab', label: 'llmos consumer' },
    { id: 'b0a0000000000002', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(port), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'in-config', type: 'mqtt in', z: 'f1a0000000000001', topic: `${prefix}/device/+/config`, qos: '1', datatype: 'auto-detect', broker: 'b0a0000000000002', nl: false, rap: true, rh: 0, inputs: 0, wires: [['c0a0000000000003']] },
    { id: 'in-status', type: 'mqtt in', z: 'f1a0000000000001', topic: `${base}/status`, qos: '1', datatype: 'utf8', broker: 'b0a0000000000002', nl: false, rap: true, rh: 0, inputs: 0, wires: [['c0a0000000000003']] },
    { id: 'in-state', type: 'mqtt in', z: 'f1a0000000000001', topic: `${base}/state`, qos: '1', datatype: 'json', broker: 'b0a0000000000002', nl: false, rap: true, rh: 0, inputs: 0, wires: [['c0a0000000000003']] },
    { id: 'c0a0000000000003', type: 'function', z: 'f1a0000000000001', func: press, outputs: 2, wires: [['d0a0000000000004'], ['e0a0000000000005']] },
    { id: 'd0a0000000000004', type: 'file', z: 'f1a0000000000001', filename: log, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'utf8', wires: [] },
    { id: 'e0a0000000000005', type: 'mqtt out', z: 'f1a0000000000001', topic: '', qos: '', retain: 'false', broker: 'b0a0000000000002', wires: [] },
  ];
}

async function startNodeRed(main: string, dir: string, flows: unknown[]): Promise<{ proc: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(dir, 'settings.js'), `module.exports = ${JSON.stringify({
    uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', userDir: dir, credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } }, diagnostics: { enabled: false }, telemetry: { enabled: false }, editorTheme: { tours: false },
  })};\n`);
  const proc = spawn(process.execPath, [main, '--settings', join(dir, 'settings.js'), '--userDir', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return {
    proc, output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

test('Node-RED 4.1 as a consumer: reads discovery, availability and state, and presses the discovered e-stop button', async (t) => {
  const b = needBroker(t);
  if (!b) return;
  const c = await counterparts();
  let main: string;
  try { main = existsSync(c.NODE_RED_MAIN) ? c.NODE_RED_MAIN : c.fetchNodeRed(); } catch (e) {
    unavailable(t, `cannot install Node-RED from the npm registry (${(e as Error).message}); run node scripts/ci/counterparts.mjs node-red`);
    return;
  }
  const prefix = `hared${process.pid}x${++seq}`;
  const d = await device(b, prefix);
  const dir = tempDir('llmos-node-red-');
  const log = join(dir, 'seen.jsonl');
  const red = await startNodeRed(main, dir, flow(b.port, prefix, d.base, log));
  const lines = (): Array<{ topic: string; payload: unknown }> => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { topic: string; payload: unknown }) : []);
  try {
    await until(() => d.r.os.gate.estopEngaged || (red.proc.exitCode !== null ? assert.fail(`Node-RED exited: ${red.output().slice(-2000)}`) : undefined), 'Node-RED pressing the e-stop button', 90000);
    assert.match(d.r.os.gate.estopStatus.reason ?? '', /Home Assistant/);
    const seen = await until(() => {
      const l = lines();
      return l.some((x) => x.topic.endsWith('/state') && (x.payload as { estop?: { engaged?: boolean } }).estop?.engaged === true) ? l : undefined;
    }, `Node-RED seeing the engaged state (seen: ${JSON.stringify(lines().map((x) => x.topic))}; ${red.output().slice(-1500)})`, 60000);
    const config = seen.find((x) => x.topic === `${prefix}/device/${d.id}/config`);
    assert.ok(config && typeof config.payload === 'object', 'Node-RED parsed the discovery config');
    assert.ok(seen.some((x) => x.topic === `${d.base}/status` && x.payload === 'online'), 'availability: online');
    assert.match(red.output(), /Connected to broker/);
  } finally {
    await red.stop();
    await d.close();
  }
});
