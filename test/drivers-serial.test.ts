/**
 * The serial driver through serialport's own stream code: against @serialport/binding-mock with a
 * scripted device (the simulated twin), and against a real pseudo-terminal pair from socat with the
 * native binding, where pulling the plug is killing socat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLlmosError } from '../lib/errors.js';
import { SerialDriver, formatLine } from '../drivers/serial/serial.js';
import { SerialTwin, type SerialTwinOptions } from '../drivers/serial/twins/serial-device.js';
import { WriteRecorder } from '../drivers/recorder.js';
import { RealClock } from '../lib/clock.js';
import type { ActuatorSpec } from '../drivers/types.js';
import { simRobot, tempDir } from './helpers.js';

let seq = 0;
const port = (): string => `/dev/ttyTEST${process.pid}_${seq++}`;

function line(path: string, extra: Partial<ActuatorSpec> = {}): ActuatorSpec {
  return { name: 'uart', type: 'serial_line', driver: 'ctl', channel: {}, range: [0, 0], on_range: 'reject', on_rate: 'ramp', safe_value: 'hold', stop_category: 0, port: path, allow: ['^PING$', '^STATUS$', '^SLOW$'], reply_timeout_ms: 200, ...extra };
}

interface TwinRig { path: string; twin: SerialTwin; d: SerialDriver; uart: ActuatorSpec }

/** A serial driver on its simulated device, opened with one `uart` line; closed after `fn`. */
async function withTwin(o: { twin?: SerialTwinOptions; driver?: Record<string, unknown>; recorder?: WriteRecorder }, fn: (r: TwinRig) => Promise<void>): Promise<void> {
  const path = port();
  const twin = new SerialTwin([path], o.twin);
  const d = new SerialDriver({ name: 'ctl', options: o.driver ?? {}, binding: twin.binding, ...(o.recorder ? { recorder: o.recorder } : {}) });
  const uart = line(path);
  await d.open([uart], []);
  try {
    await fn({ path, twin, d, uart });
  } finally {
    await d.close();
  }
}

async function until<T>(f: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('request/reply over the mock binding: one request at a time, each reply to its own line', async () => {
  const path = port();
  const twin = new SerialTwin([path]);
  const recorder = new WriteRecorder(new RealClock());
  const d = new SerialDriver({ name: 'ctl', options: {}, binding: twin.binding, recorder });
  const uart = line(path);
  await d.open([uart], []);
  try {
    const replies = await Promise.all(['PING', 'STATUS', 'PING'].map((l) => d.request(uart, l, { awaitReply: true, timeoutMs: 500 })));
    assert.deepEqual(replies, ['PONG', 'OK READY', 'PONG']);
    assert.deepEqual(twin.received, ['PING', 'STATUS', 'PING']);
    assert.deepEqual(recorder.writes.map((w) => [w.actuator, w.value, w.via]), [['uart', 'PING', `serial:${path}`], ['uart', 'STATUS', `serial:${path}`], ['uart', 'PING', `serial:${path}`]]);
    // Not on the allow-list: refused before anything reaches the wire.
    await assert.rejects(d.request(uart, 'REBOOT', { awaitReply: false, timeoutMs: 100 }), (e: unknown) => isLlmosError(e) && e.code === 'ERR_SAFETY_SERIAL_LINE');
    assert.equal(twin.received.length, 3);
  } finally {
    await d.close();
  }
});

test('a device that does not answer: ERR_SERIAL_TIMEOUT naming the port and the line; the next request still works', async () => {
  await withTwin({ twin: { reply: (l) => (l === 'SLOW' ? undefined : 'PONG') } }, async ({ path, d, uart }) => {
    await assert.rejects(d.request(uart, 'SLOW', { awaitReply: true, timeoutMs: 80 }), (e: unknown) => isLlmosError(e) && e.code === 'ERR_SERIAL_TIMEOUT' && e.message.includes(path) && e.message.includes('"SLOW"'));
    assert.equal(await d.request(uart, 'PING', { awaitReply: true, timeoutMs: 500 }), 'PONG');
  });
});

test('a reply that comes after its timeout is never taken as the answer to the next line', async () => {
  await withTwin({ twin: { reply: (l) => (l === 'SLOW' ? 'LATE' : 'PONG'), replyDelayMs: (l) => (l === 'SLOW' ? 100 : 80) } }, async ({ path, d, uart }) => {
    await assert.rejects(d.request(uart, 'SLOW', { awaitReply: true, timeoutMs: 60 }), (e: unknown) => isLlmosError(e) && e.code === 'ERR_SERIAL_TIMEOUT');
    assert.equal(await d.request(uart, 'PING', { awaitReply: true, timeoutMs: 500 }), 'PONG');
    assert.deepEqual(d.connection(path)?.unsolicited, ['LATE'], 'the late reply was set aside');
  });
});

test('a line still waiting its turn after a timeout is checked again before it goes out (an e-stop meanwhile stops it)', async () => {
  await withTwin({ twin: { reply: (l) => (l === 'SLOW' ? undefined : 'PONG') } }, async ({ twin, d, uart }) => {
    await assert.rejects(d.request(uart, 'SLOW', { awaitReply: true, timeoutMs: 60 }), /no reply/);
    let latched = false;
    const guard = (): void => { if (latched) throw new Error('e-stop engaged'); };
    const next = d.request(uart, 'PING', { awaitReply: true, timeoutMs: 500, guard });
    latched = true; // the e-stop latches while the line waits for the late reply to pass
    await assert.rejects(next, /e-stop engaged/);
    assert.deepEqual(twin.received, ['SLOW'], 'PING never reached the device');
  });
});

test('a servo over a line template: GRIP {value}, the reply checked against expect', async () => {
  assert.equal(formatLine('GRIP {value}', 42.00001), 'GRIP 42');
  assert.equal(formatLine('LED {value}', true), 'LED 1');
  const path = port();
  const twin = new SerialTwin([path], { reply: (l) => (l === 'GRIP 99' ? 'ERR JAM' : 'OK') });
  const d = new SerialDriver({ name: 'ctl', options: {}, binding: twin.binding });
  const grip: ActuatorSpec = { ...line(path), name: 'gripper', type: 'servo', range: [0, 100], channel: { line: 'GRIP {value}', expect: '^OK' }, allow: ['^GRIP [0-9]{1,3}$'] };
  await d.open([grip], []);
  try {
    await d.write({ actuator: grip }, 45);
    assert.deepEqual(twin.received, ['GRIP 45']);
    await assert.rejects(d.write({ actuator: grip }, 99), /answered "ERR JAM" to "GRIP 99"/);
    await assert.rejects(d.write({ actuator: grip }, 4.5), (e: unknown) => isLlmosError(e) && e.code === 'ERR_SAFETY_SERIAL_LINE');
  } finally {
    await d.close();
  }
});

test('unplugged and plugged back: requests fail at once naming the port, then the driver reconnects by itself', async () => {
  await withTwin({ driver: { reconnect_ms: 20, max_reconnect_ms: 100 } }, async ({ path, twin, d, uart }) => {
    assert.equal(await d.request(uart, 'PING', { awaitReply: true, timeoutMs: 500 }), 'PONG');
    twin.unplug();
    await until(() => !d.connection(path)?.isConnected);
    await assert.rejects(d.request(uart, 'PING', { awaitReply: true, timeoutMs: 500 }), (e: unknown) => isLlmosError(e) && e.code === 'ERR_DRIVER_DISCONNECTED' && e.message.includes(path));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(d.connection(path)?.isConnected, false, 'still unplugged: no reconnection');
    twin.plugIn();
    await until(() => d.connection(path)?.isConnected);
    assert.equal(await d.request(uart, 'PING', { awaitReply: true, timeoutMs: 500 }), 'PONG');
  });
});

test('the serial-gripper example board runs on its twin: the gripper closes over the line', async () => {
  const r = await simRobot({ board: join(process.cwd(), 'boards', 'serial-gripper.yaml'), overrides: { sim: { twins: true } } });
  try {
    const res = await r.os.gate.call({ name: 'servo_move', args: { actuator: 'gripper', angle: 60 } }, { source: 'api', runId: 't' });
    assert.ok(res);
    const grip = r.writes().filter((w) => w.actuator === 'gripper');
    assert.ok(grip.length > 0 && grip.every((w) => (w as { via?: string }).via === 'serial:/dev/ttyUSB0'));
    assert.equal(grip.at(-1)?.value, 60);
  } finally {
    await r.cleanup();
  }
});

// A real pseudo-terminal pair: the driver opens one end with serialport's native binding, the
// test plays the device on the other. Killing socat is pulling the USB cable.
const socat = spawnSync('which', ['socat']).status === 0;

function startPty(dir: string): { child: ChildProcess; dev: string; ctl: string; ready: Promise<void> } {
  const dev = join(dir, 'ttyDEV');
  const ctl = join(dir, 'ttyCTL');
  const child = spawn('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${ctl}`], { stdio: 'ignore' });
  const ready = until(() => existsSync(dev) && existsSync(ctl)).then(() => undefined);
  return { child, dev, ctl, ready };
}

test('a real pty (socat) with the native binding: a device answers; unplugged mid-run the run fails clearly, nothing crashes, and it comes back', { skip: !socat && process.env['LLMOS_CI'] !== '1' ? 'needs socat (apt-get install socat)' : false }, async () => {
  assert.ok(socat, 'socat must be installed in CI');
  const dir = tempDir();
  let pty = startPty(dir);
  await pty.ready;
  const { SerialPort } = await import('serialport');
  // The device on the far end: answers GRIP n with OK and PING with PONG.
  const { ReadlineParser } = await import('@serialport/parser-readline');
  const heard: string[] = [];
  const device = async (ctl: string): Promise<InstanceType<typeof SerialPort>> => {
    const p = new SerialPort({ path: ctl, baudRate: 115200, autoOpen: false });
    p.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (l: string) => { heard.push(l); p.write(l.startsWith('GRIP') ? 'OK\n' : l === 'PING' ? 'PONG\n' : 'ERR\n'); });
    p.on('error', () => undefined);
    await new Promise<void>((res, rej) => p.open((e) => (e ? rej(e) : res())));
    return p;
  };
  let far = await device(pty.ctl);
  const board = join(dir, 'board.yaml');
  writeFileSync(board, `name: grip
drivers:
  ctl: { type: serial, port: ${pty.dev}, reconnect_ms: 20, max_reconnect_ms: 200 }
actuators:
  gripper: { type: servo, line: "GRIP {value}", expect: "^OK", allow: ['^GRIP [0-9]{1,3}$'], range: [0, 80], safe_value: hold }
  uart: { type: serial_line, allow: ['^PING$'], reply_timeout_ms: 300 }
`);
  const r = await simRobot({ board, realTime: true, shippedTraces: false });
  try {
    const ping = await r.os.gate.call({ name: 'serial_send', args: { actuator: 'uart', line: 'PING', await_reply: true } }, { source: 'api', runId: 'p' });
    assert.match(JSON.stringify(ping), /PONG/);
    // A goal in two moves; the plug is pulled between them, mid-run.
    writeFileSync(join(r.dir, 'traces', 'squeeze.yaml'), 'goal_text: squeeze the gripper twice\nsuccess_rate: 1\nusage_count: 1\ntool_calls:\n  - { name: servo_move, args: { actuator: gripper, angle: 30 } }\n  - { name: wait, args: { ms: 600 } }\n  - { name: servo_move, args: { actuator: gripper, angle: 60 } }\n');
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    const running = r.os.execute('squeeze the gripper twice');
    await until(() => heard.includes('GRIP 30'));
    far.close(() => undefined);
    pty.child.kill('SIGKILL');
    await new Promise((res) => pty.child.once('exit', res));
    const res = await running;
    assert.equal(res.ok, false, 'the run fails');
    assert.match(res.error?.code ?? '', /ERR_DRIVER_DISCONNECTED|ERR_SERIAL_TIMEOUT/);
    assert.match(res.error?.message ?? '', new RegExp(pty.dev.replace(/[/.]/g, '\\$&')), 'the error names the port');
    assert.equal(heard.includes('GRIP 60'), false, 'the second move never reached the device');
    // Plug it back in: same path, new pty pair.
    pty = startPty(dir);
    await pty.ready;
    far = await device(pty.ctl);
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await r.os.gate.call({ name: 'servo_move', args: { actuator: 'gripper', angle: 50 } }, { source: 'api', runId: `g3-${i}` }).then(() => true, () => false);
      if (!ok) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(ok, true, 'the driver reconnected to the device');
  } finally {
    await r.cleanup();
    far.close(() => undefined);
    pty.child.kill('SIGKILL');
  }
});

test('a driver\'s capabilities are checked before it opens: an analog sensor on a serial driver is refused, naming it', async () => {
  const { parseBoardProfile } = await import('../safety/board-profile.js');
  const { openDrivers } = await import('../drivers/index.js');
  const path = port();
  const profile = parseBoardProfile({
    name: 'serial-caps',
    drivers: { ctl: { type: 'serial', port: path } },
    actuators: { uart: { type: 'serial_line', driver: 'ctl', allow: ['^PING$'] } },
    sensors: { knob: { type: 'analog', driver: 'ctl', pin: 'A0' } },
  }, 'test:serial-caps');
  await assert.rejects(openDrivers(profile, { clock: new RealClock(), twins: true }), (e: unknown) => {
    assert.ok(isLlmosError(e) && e.code === 'ERR_BOARD_PROFILE', String(e));
    assert.match((e as Error).message, /driver "ctl": sensor knob: a serial driver cannot read analog sensors \(it reads serial_query\)/);
    return true;
  });
});
