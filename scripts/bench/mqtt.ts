/** MQTT command-to-reply round trip on loopback (Mosquitto when installed, else aedes). */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../lib/paths.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';
import { MqttBridge } from '../../runtime/mqtt/bridge.js';
import { startBroker } from '../local-broker.js';
import { percentiles } from './core.js';

export async function mqttBench(): Promise<Record<string, unknown>> {
  const broker = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-mqtt-'));
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const os = new LLMOS({ overrides: { board: 'sim', device_id: 'bench', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'virtual' }, safety: { audit: false }, mqtt: { url: broker.url, protocol_version: broker.v5 ? 5 : 4 } }, logger: silentLogger });
  await os.boot();
  const bridge = new MqttBridge({ os, allowLlm: false, log: silentLogger });
  await bridge.start();
  await bridge.waitConnected();
  const mqtt = (await import('mqtt')).default;
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: broker.v5 ? 5 : 4 });
  (c.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const waiting = new Map<string, () => void>();
  c.on('message', (topic) => { const id = topic.split('/').at(-1) as string; waiting.get(id)?.(); waiting.delete(id); });
  await c.subscribeAsync('llmos/bench/reply/+', { qos: 1 });
  const roundTrip = async (cmd: string, body: Record<string, unknown>, n: number): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${cmd}-${i}`;
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      await c.publishAsync(`llmos/bench/cmd/${cmd}`, JSON.stringify({ id, ...body }), { qos: 1 });
      await done;
      samples.push(performance.now() - t0);
    }
    return samples.slice(Math.floor(n / 10));
  };
  // The floor: a bare client that answers every request at once, through the same broker.
  const echo = await mqtt.connectAsync(broker.url, { protocolVersion: broker.v5 ? 5 : 4 });
  (echo.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  echo.on('message', (_topic, payload) => {
    const { id } = JSON.parse(payload.toString()) as { id: string };
    void echo.publishAsync(`llmos/bench/reply/${id}`, '{}', { qos: 1 });
  });
  await echo.subscribeAsync('bench-echo/cmd/+', { qos: 1 });
  const echoTrip = async (n: number): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = `echo-${i}`;
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      await c.publishAsync('bench-echo/cmd/execute', JSON.stringify({ id }), { qos: 1 });
      await done;
      samples.push(performance.now() - t0);
    }
    return samples.slice(Math.floor(n / 10));
  };
  // Issue 18: an e-stop engage right behind a hostile message (an id no topic can hold, a
  // response topic aimed at another device's commands) is still answered; goal: p99 < 100 ms.
  const hostile = [
    { topic: 'state', body: '{"id":"\u0000x"}', properties: {} },
    { topic: 'execute', body: '{"id":"a/b","goal":"beep"}', properties: {} },
    { topic: 'state', body: '{"id":"h"}', properties: broker.v5 ? { responseTopic: 'llmos/other/cmd/estop' } : {} },
  ];
  const estopBehindHostile = async (n: number): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const h = hostile[i % hostile.length] as (typeof hostile)[number];
      await c.publishAsync(`llmos/bench/cmd/${h.topic}`, h.body, { qos: 1, properties: h.properties });
      const id = `estop-${i}`;
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      await c.publishAsync('llmos/bench/cmd/estop', JSON.stringify({ id, action: 'engage' }), { qos: 1 });
      await done;
      samples.push(performance.now() - t0);
      os.releaseEstop('bench');
    }
    return samples.slice(Math.floor(n / 10));
  };
  try {
    // Interleaved in blocks, so load on the machine hits the floor and the runtime alike.
    const floor: number[] = [];
    const exec: number[] = [];
    const state: number[] = [];
    for (let b = 0; b < 5; b++) {
      floor.push(...await echoTrip(110));
      exec.push(...await roundTrip('execute', { goal: 'read the distance sensor' }, 110));
      state.push(...await roundTrip('state', {}, 110));
    }
    const f = percentiles(floor);
    const e = percentiles(exec);
    const estop = percentiles(await estopBehindHostile(200));
    return {
      broker: broker.kind, protocol: broker.v5 ? 5 : 4, unit: 'ms', echo_floor: f, cmd_state: percentiles(state), cmd_execute_sensor_read: e,
      execute_p50_x_echo: Math.round((e.p50 / f.p50) * 100) / 100, target: 'execute p50 <= 2x the echo floor',
      estop_behind_hostile: estop, estop_goal_ms: 100, estop_within_goal: estop.p99 < 100,
      note: 'publish (QoS 1) to the reply arriving at the requesting client, loopback; echo_floor = a bare client answering through the same broker',
    };
  } finally {
    await echo.endAsync();
    await c.endAsync();
    await bridge.stop();
    await os.shutdown();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
