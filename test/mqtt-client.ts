/** MQTT test helpers: a device (sim robot + bridge) on a test broker, and a client that asks it things. */
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import type { ConfigInput } from '../runtime/config.js';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import { simRobot, type SimRobot } from './helpers.js';
import type { TestBroker } from './mqtt-broker.js';

export interface Device { r: SimRobot; bridge: MqttBridge; base: string; close(): Promise<void> }

let seq = 0;

export async function mqttDevice(broker: TestBroker, overrides: ConfigInput = {}, robot: Parameters<typeof simRobot>[0] = {}): Promise<Device> {
  const id = `dev${process.pid}y${++seq}`;
  const r = await simRobot({ ...robot, overrides: { device_id: id, ...overrides, mqtt: { url: broker.url, protocol_version: broker.v5 ? 5 : 4, reconnect_ms: 50, max_reconnect_ms: 400, ...overrides.mqtt } } });
  const bridge = new MqttBridge({ os: r.os, allowLlm: false, log: r.os.log });
  try {
    await bridge.start();
    await bridge.waitConnected();
  } catch (e) {
    await bridge.stop();
    await r.cleanup();
    throw e;
  }
  return { r, bridge, base: bridge.topics.base, close: async () => { await bridge.stop(); await r.cleanup(); } };
}

export async function mqttClient(broker: TestBroker, version: 4 | 5 = 4): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 100, clientId: `t${process.pid}-c${++seq}` });
}

export interface Seen { topic: string; body: string; retain: boolean }

function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Collects the messages on a topic filter from now on. */
export async function watchTopic(c: MqttClient, filter: string): Promise<Seen[]> {
  const got: Seen[] = [];
  c.on('message', (topic, payload, packet) => { if (matches(filter, topic)) got.push({ topic, body: payload.toString(), retain: packet.retain }); });
  await c.subscribeAsync(filter, { qos: 1 });
  return got;
}

/** Polls until fn gives a value (an event arrives); a generous bound, not a timing goal. */
export async function until<T>(fn: () => T | undefined | false, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** A 3.1.1-style request: publish on cmd/<name>, wait for reply/<id> (its listener removed after). */
export async function ask(c: MqttClient, base: string, name: string, payload: Record<string, unknown> & { id: string }): Promise<Record<string, unknown>> {
  const topic = `${base}/reply/${payload.id}`;
  let body: string | undefined;
  const onMessage = (t: string, p: Buffer): void => { if (t === topic && body === undefined) body = p.toString(); };
  c.on('message', onMessage);
  try {
    await c.subscribeAsync(topic, { qos: 1 });
    await c.publishAsync(`${base}/cmd/${name}`, JSON.stringify(payload), { qos: 1 });
    return JSON.parse(await until(() => body)) as Record<string, unknown>;
  } finally {
    c.off('message', onMessage);
    await c.unsubscribeAsync(topic).catch(() => undefined);
  }
}
