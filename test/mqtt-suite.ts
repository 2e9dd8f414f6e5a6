/**
 * Shared by mqtt-commands, mqtt-control and mqtt-link (split from mqtt.test.ts): a real broker
 * (Mosquitto when installed, aedes otherwise), a simulated device with its bridge, clients, and
 * waiting for messages. Not a test file itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { ConfigInput } from '../runtime/config.js';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import { simRobot, type SimRobot } from './helpers.js';
import { startBroker, type TestBroker } from './mqtt-broker.js';

export let broker: TestBroker;
export let seq = 0;
/** Starts the broker before this file's tests and stops it after them. */
export function useBroker(): void {
  before(async () => { broker = await startBroker(); });
  after(async () => { await broker.stop(); });
}

export interface Device { r: SimRobot; bridge: MqttBridge; base: string; close(): Promise<void> }

export async function device(overrides: ConfigInput = {}, robot: Parameters<typeof simRobot>[0] = {}): Promise<Device> {
  const id = `dev${process.pid}x${++seq}`;
  const r = await simRobot({ ...robot, overrides: { device_id: id, ...overrides, mqtt: { url: broker.url, protocol_version: broker.v5 ? 5 : 4, reconnect_ms: 50, max_reconnect_ms: 400, ...overrides.mqtt } } });
  const bridge = new MqttBridge({ os: r.os, allowLlm: false, log: r.os.log });
  await bridge.start();
  await bridge.waitConnected();
  return { r, bridge, base: bridge.topics.base, close: async () => { await bridge.stop(); await r.cleanup(); } };
}

export async function client(version: 4 | 5 = 4): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 100, clientId: `t${process.pid}-${++seq}` });
}

/** Collects messages on a topic filter. */
export async function watch(c: MqttClient, filter: string): Promise<Array<{ topic: string; body: string; retain: boolean }>> {
  const got: Array<{ topic: string; body: string; retain: boolean }> = [];
  c.on('message', (topic, payload, packet) => {
    if (mqttMatch(filter, topic)) got.push({ topic, body: payload.toString(), retain: packet.retain });
  });
  await c.subscribeAsync(filter, { qos: 1 });
  return got;
}

export function mqttMatch(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export async function until<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** A 3.1.1-style request: publish on cmd/<name>, wait for reply/<id>. */
export async function request(c: MqttClient, base: string, name: string, payload: unknown, id?: string): Promise<Record<string, unknown>> {
  const replies = id ? await watch(c, `${base}/reply/${id}`) : [];
  await c.publishAsync(`${base}/cmd/${name}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  if (!id) return {};
  const m = await until(() => replies[0], 15000);
  return JSON.parse(m.body) as Record<string, unknown>;
}
