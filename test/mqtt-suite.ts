/**
 * Shared by mqtt-commands, mqtt-control and mqtt-link (split from mqtt.test.ts): a real broker
 * (Mosquitto when installed, aedes otherwise), a simulated device with its bridge, clients, and
 * waiting for messages. Not a test file itself.
 */
import { after, before } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { ConfigInput } from '../runtime/config.js';
import type { simRobot } from './helpers.js';
import { startBroker, type TestBroker } from './mqtt-broker.js';
import * as harness from './mqtt-harness.js';

export { mqttMatch, watch, type Device } from './mqtt-harness.js';

export let broker: TestBroker;
/** Starts the broker before this file's tests and stops it after them. */
export function useBroker(): void {
  before(async () => { broker = await startBroker(); });
  after(async () => { await broker.stop(); });
}

/** A device on this file's broker (test/mqtt-harness.ts does the work). */
export function device(overrides: ConfigInput = {}, robot: Parameters<typeof simRobot>[0] = {}): Promise<harness.Device> {
  return harness.device(broker, overrides, robot);
}

export function client(version: 4 | 5 = 4): Promise<MqttClient> {
  return harness.client(broker, version);
}

export function until<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  return harness.until(fn, ms);
}

/** A 3.1.1-style request: publish on cmd/<name>, wait for reply/<id> (without an id: publish only). */
export async function request(c: MqttClient, base: string, name: string, payload: unknown, id?: string): Promise<Record<string, unknown>> {
  if (id) return harness.request(c, base, name, payload, id);
  await c.publishAsync(`${base}/cmd/${name}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  return {};
}
