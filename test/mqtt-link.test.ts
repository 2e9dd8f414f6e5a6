/**
 * The MQTT link against a real broker: broker restarts, the link-loss failsafe, a load of 1,000
 * commands, Home Assistant discovery, TLS with credentials, and run-follower --serve.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import { MqttBridge } from '../runtime/mqtt/bridge.js';
import { simRobot } from './helpers.js';
import { useBroker, broker, type Device, device, client, watch, until, request } from './mqtt-suite.js';

useBroker();

test('broker restart mid-run: the run finishes, the device reconnects, republishes its birth, and serves again', async () => {
  const d = await device({ safety: { broker_loss: { action: 'stop', after_ms: 5000 }, watchdog: { enabled: false } } }, { realTime: true });
  try {
    const c1 = await client();
    const pending = request(c1, d.base, 'execute', { id: 'long-1', goal: 'drive forward 0.5 meters' }, 'long-1');
    await until(() => d.r.writes().some((w) => w.actuator === 'base') || undefined, 5000);
    await broker.stop();
    await sleep(300);
    await broker.start();
    const reply = await pending;
    assert.equal(reply['ok'], true, 'the run completed and its reply was delivered after reconnecting');
    await d.bridge.waitConnected(5000);
    const c2 = await client();
    const status = await watch(c2, `${d.base}/status`);
    assert.equal((await until(() => status[0])).body, 'online');
    const again = await request(c2, d.base, 'execute', { id: 'after-1', goal: 'turn on the led' }, 'after-1');
    assert.equal(again['ok'], true, 'resubscribed');
    await c1.endAsync(true);
    await c2.endAsync();
  } finally {
    await d.close();
  }
});

test('link-loss failsafe: without the broker for after_ms, motion stops', async () => {
  const d = await device({ safety: { broker_loss: { action: 'stop', after_ms: 300 }, watchdog: { enabled: false } } }, { realTime: true });
  try {
    const run = d.r.os.execute('drive forward 2 meters', { source: 'mqtt' });
    await until(() => d.r.writes().some((w) => w.actuator === 'base' && (w.value as number) > 0.3) || undefined, 5000);
    await broker.stop();
    const res = await run;
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_ABORTED');
    const base = d.r.writes().filter((w) => w.actuator === 'base');
    assert.equal(base.filter((w) => w.channel === 'left').at(-1)?.value, 0);
    assert.match(res.error?.message ?? '', /broker lost/);
  } finally {
    await broker.start();
    await d.close();
  }
});

test('a load of 1,000 commands: no loss, no duplicate execution', async () => {
  const d = await device();
  const c = await client();
  try {
    const replies = await watch(c, `${d.base}/reply/+`);
    const sig = d.r.os.decide('read the distance sensor').candidate?.trace.goal_signature as string;
    const before = d.r.os.traces.get(sig)?.trace.usage_count ?? 0;
    const N = 1000;
    for (let i = 0; i < N; i++) c.publish(`${d.base}/cmd/execute`, JSON.stringify({ id: `load-${i}`, goal: 'read the distance sensor' }), { qos: 1 });
    for (let i = 0; i < 100; i++) c.publish(`${d.base}/cmd/execute`, JSON.stringify({ id: `load-${i * 7}`, goal: 'read the distance sensor' }), { qos: 1 });
    // A liveness bound, not a timing goal (~5 s here; the bench measures speed).
    await until(() => (replies.length >= N + 100 ? true : undefined), 90000);
    const ids = replies.map((m) => m.topic.split('/').at(-1) as string);
    assert.equal(new Set(ids).size, N, 'every command answered');
    const fresh = replies.map((m) => JSON.parse(m.body) as { ok: boolean; duplicate?: boolean }).filter((b) => !b.duplicate);
    assert.equal(fresh.length, N);
    assert.ok(fresh.every((b) => b.ok));
    assert.equal((d.r.os.traces.get(sig)?.trace.usage_count ?? 0) - before, N, 'executed exactly once each');
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('Home Assistant discovery: sensors, e-stop button and availability; republished when Home Assistant comes online', async () => {
  const prefix = `ha${process.pid}x${Date.now()}`;
  const d = await device({ mqtt: { home_assistant: { enabled: true, prefix } } });
  const c = await client();
  try {
    const id = d.r.os.config.device_id;
    const topic = `${prefix}/device/${id}/config`;
    const seen = await watch(c, topic);
    await until(() => (seen.length >= 1 ? true : undefined));
    // Device-based discovery: availability and the state topic are shared, entities are under cmps.
    const config = JSON.parse(seen[0]!.body) as { state_topic: string; availability_topic: string; cmps: Record<string, Record<string, unknown>> };
    assert.equal(config.cmps['safety']?.['p'], 'sensor');
    assert.equal(config.cmps['safety']?.['state_topic'] ?? config.state_topic, `${d.base}/state`);
    assert.equal(config.availability_topic, `${d.base}/status`);
    const button = config.cmps['estop'];
    assert.equal(button?.['command_topic'], `${d.base}/cmd/estop`);
    const n = seen.length;
    await c.publishAsync(`${prefix}/status`, 'online');
    // Republished after a random delay of at most 2 s.
    await until(() => (seen.length >= n + 1 ? true : undefined), 30000);
    await c.publishAsync(String(button?.['command_topic']), String(button?.['payload_press']));
    await until(() => d.r.os.gate.estopEngaged || undefined);
  } finally {
    await c.endAsync();
    await d.close();
  }
});

test('TLS with a CA, and username/password, against Mosquitto', async (t) => {
  const { mosquittoPath, startMosquitto } = await import('./mqtt-broker.js');
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tempDir } = await import('./helpers.js');
  if (!mosquittoPath() || spawnSync('openssl', ['version']).status !== 0 || spawnSync('which', ['mosquitto_passwd']).status !== 0) {
    if (process.env['LLMOS_CI'] === '1') throw new Error('CI must have mosquitto and openssl');
    t.skip('needs mosquitto, mosquitto_passwd and openssl');
    return;
  }
  const dir = tempDir('llmos-tls-');
  const run = (cmd: string, args: string[]): void => { const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' }); assert.equal(r.status, 0, r.stderr); };
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=llmos-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.pem']);
  run('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'robot', 's3cret']);
  // Mosquitto started as root drops to its own user, which must be able to read these.
  const { chmodSync, readdirSync } = await import('node:fs');
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const tls = await startMosquitto({
    scheme: 'mqtts',
    extra: [`cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'server.pem')}`, `keyfile ${join(dir, 'server.key')}`, 'allow_anonymous false', `password_file ${join(dir, 'passwd')}`],
  });
  try {
    const good = await simRobot({ overrides: { preset: 'production', device_id: `tls${process.pid}`, mqtt: { url: tls.url, username: 'robot', password: 's3cret', tls: { ca: join(dir, 'ca.pem') }, reconnect_ms: 50 } } });
    const b1 = new MqttBridge({ os: good.os, allowLlm: false, log: good.os.log });
    await b1.start();
    await b1.waitConnected(5000);
    assert.equal(b1.isConnected, true);
    await b1.stop();
    await good.cleanup();
    const bad = await simRobot({ overrides: { device_id: `tls${process.pid}b`, mqtt: { url: tls.url, username: 'robot', password: 'wrong', tls: { ca: join(dir, 'ca.pem') }, reconnect_ms: 50 } } });
    const b2 = new MqttBridge({ os: bad.os, allowLlm: false, log: bad.os.log });
    await b2.start();
    await assert.rejects(b2.waitConnected(1500), /not connected/);
    await b2.stop();
    await bad.cleanup();
  } finally {
    await tls.stop();
  }
});

test('run-follower --serve --mqtt URL: serves commands until SIGTERM, then says offline', async () => {
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const { cpSync } = await import('node:fs');
  const { packagePath } = await import('../lib/paths.js');
  const { tempDir } = await import('./helpers.js');
  const dir = tempDir();
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const id = `cli${process.pid}`;
  // aedes speaks 3.1.1 only; the config file says which protocol the device uses.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'config.yaml'), `mqtt:\n  protocol_version: ${broker.v5 ? 5 : 4}\n`);
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--serve', '--config', join(dir, 'config.yaml'), '--mqtt', broker.url, '--device-id', id, '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const c = await client();
  try {
    const status = await watch(c, `llmos/${id}/status`);
    // Bounds for a loaded machine (a cold start of the CLI may take seconds there).
    await until(() => status.find((m) => m.body === 'online'), 30000);
    const reply = await request(c, `llmos/${id}`, 'execute', { id: 'cli-1', goal: 'wave hello' }, 'cli-1');
    assert.equal((reply['result'] as { mode: string }).mode, 'FOLLOWER');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    await until(() => status.find((m) => m.body === 'offline'), 15000);
    assert.match(err, /serving llmos\/cli\d+\/cmd\/\+/);
  } finally {
    child.kill('SIGKILL');
    await c.endAsync();
  }
});
