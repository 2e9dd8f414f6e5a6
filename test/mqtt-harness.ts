/**
 * Shared pieces of the MQTT tests against a real broker: a device (sim robot + bridge), a client,
 * watching a topic filter, polling with a generous bound, and 3.1.1-style requests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { ConfigInput } from '../runtime/config.js';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import { simRobot, type SimRobot } from './helpers.js';
import type { TestBroker } from './mqtt-broker.js';

export interface Device { r: SimRobot; bridge: MqttBridge; base: string; client(): MqttClient; close(): Promise<void> }
export interface Seen { topic: string; body: string; retain: boolean; correlation?: string }

let seq = 0;

export async function device(broker: TestBroker, overrides: ConfigInput = {}, robot: Parameters<typeof simRobot>[0] = {}): Promise<Device> {
  const id = `h${process.pid}x${++seq}`;
  const r = await simRobot({ ...robot, overrides: { device_id: id, ...overrides, mqtt: { url: broker.url, protocol_version: broker.v5 ? 5 : 4, reconnect_ms: 50, max_reconnect_ms: 400, ...overrides.mqtt } } });
  const bridge = new MqttBridge({ os: r.os, allowLlm: false, log: r.os.log });
  await bridge.start();
  await bridge.waitConnected(20000);
  return {
    r, bridge, base: bridge.topics.base,
    client: () => (bridge as unknown as { client: MqttClient }).client,
    close: async () => { await bridge.stop(); await r.cleanup(); },
  };
}

export async function client(broker: TestBroker, version: 4 | 5 = 4): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 100, clientId: `ht${process.pid}-${++seq}` });
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

/** Collects messages on a topic filter. */
export async function watch(c: MqttClient, filter: string): Promise<Seen[]> {
  const got: Seen[] = [];
  c.on('message', (topic, payload, packet) => {
    const corr = packet.properties?.correlationData;
    if (mqttMatch(filter, topic)) got.push({ topic, body: payload.toString(), retain: packet.retain, ...(corr ? { correlation: String(corr) } : {}) });
  });
  await c.subscribeAsync(filter, { qos: 1 });
  return got;
}

/** Polls until fn gives a value; the bound is for liveness, not timing. */
export async function until<T>(fn: () => T | undefined | false, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** A 3.1.1-style request: publish on cmd/<name>, wait for reply/<id>. */
export async function request(c: MqttClient, base: string, name: string, payload: unknown, id: string, options: IClientPublishOptions = {}): Promise<Record<string, unknown>> {
  const replies = await watch(c, `${base}/reply/${id}`);
  await c.publishAsync(`${base}/cmd/${name}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, ...options });
  const m = await until(() => replies[0]);
  return JSON.parse(m.body) as Record<string, unknown>;
}

/** Engages the e-stop over MQTT and waits for its answer: the device is alive and serving. */
export async function engageAnswered(c: MqttClient, d: Device, id: string): Promise<void> {
  const r = await request(c, d.base, 'estop', { id, action: 'engage', reason: 'liveness' }, id);
  if (r['ok'] !== true) throw new Error(`e-stop engage answered ${JSON.stringify(r)}`);
  if (!d.r.os.gate.estopEngaged) throw new Error('e-stop not engaged');
  d.r.os.releaseEstop('test');
}
