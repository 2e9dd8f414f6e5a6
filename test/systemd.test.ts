/**
 * Running as a systemd service: the unit passes `systemd-analyze verify` and keeps the hardware
 * reachable, the sd_notify client sends READY / STATUS / WATCHDOG / STOPPING (to a stub, and from
 * the real runner through `systemd-notify` to a fake NOTIFY_SOCKET), `--serve` with no input stays
 * up until SIGTERM, and the install script's dry run prints its steps and changes nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { loadConfig } from '../runtime/config.js';
import { SdNotify } from '../scripts/lib/sd-notify.js';
import { tempDir } from './helpers.js';

const UNIT = packagePath('deploy', 'llmos.service');
const INSTALL = packagePath('scripts', 'install.sh');
const BIN = packagePath('dist', 'bin', 'run-follower.js');

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The unit's active `Key=value` lines (comments dropped), keys may repeat. */
function unitEntries(text: string): Array<[string, string]> {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('[')).map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i), l.slice(i + 1)] as [string, string];
  });
}

function unitValue(text: string, key: string): string | undefined {
  return unitEntries(text).find(([k]) => k === key)?.[1];
}

function seconds(v: string | undefined): number {
  const m = /^(\d+)s$/.exec(v ?? '');
  assert.ok(m, `expected a value like "5s", got ${v}`);
  return Number(m[1]);
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(20);
  assert.ok(pred(), `${what}: not reached in time`);
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

// --- the unit ----------------------------------------------------------------------------------

const analyze = which('systemd-analyze');

test('the unit passes systemd-analyze verify (with ExecStart pointed at this checkout)', { skip: analyze ? false : 'systemd-analyze is not installed' }, () => {
  const dir = tempDir();
  const unit = join(dir, 'llmos.service');
  // verify checks that ExecStart's binary exists: use this node and this build.
  const text = readFileSync(UNIT, 'utf8').replace(/^ExecStart=\/usr\/bin\/node \/opt\/llmos\/dist\/bin\/run-follower\.js /m, `ExecStart=${process.execPath} ${BIN} `);
  assert.ok(text.includes(`ExecStart=${process.execPath} ${BIN} --serve`), 'ExecStart was rewritten');
  writeFileSync(unit, text);
  const r = spawnSync(analyze as string, ['verify', unit], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // Unknown keys and bad values are only warnings: none may mention the unit.
  assert.deepEqual(r.stderr.split('\n').filter((l) => l.includes('llmos.service')), []);

  // Control: verify does reject a unit whose program is missing.
  const broken = join(dir, 'broken', 'llmos.service');
  cpSync(unit, broken);
  writeFileSync(broken, text.replace(`ExecStart=${process.execPath}`, `ExecStart=${join(dir, 'no-such-node')}`));
  assert.notEqual(spawnSync(analyze as string, ['verify', broken], { encoding: 'utf8' }).status, 0);
});

test('the unit: notify with a watchdog above the deadman, unprivileged in gpio/dialout, hardware left reachable', () => {
  const text = readFileSync(UNIT, 'utf8');
  assert.equal(unitValue(text, 'Type'), 'notify');
  assert.equal(unitValue(text, 'NotifyAccess'), 'all', 'notifications come from systemd-notify, a child process');
  const deadmanMs = loadConfig({ overrides: { preset: 'production' } }).safety.deadman_ms;
  assert.ok(seconds(unitValue(text, 'WatchdogSec')) * 1000 >= 4 * deadmanMs, 'the deadman and the safety watchdog process act before systemd');
  assert.equal(unitValue(text, 'Restart'), 'on-failure');
  assert.equal(unitValue(text, 'User'), 'llmos');
  assert.deepEqual(unitValue(text, 'SupplementaryGroups')?.split(/\s+/).sort(), ['dialout', 'gpio']);
  assert.equal(unitValue(text, 'KillSignal'), 'SIGTERM');
  assert.equal(unitValue(text, 'KillMode'), 'mixed', 'SIGTERM to node only: it stops its own safety watchdog process');
  assert.ok(seconds(unitValue(text, 'TimeoutStopSec')) > 3, 'longer than the process guard\'s 3 s shutdown limit');
  assert.deepEqual(unitValue(text, 'SuccessExitStatus')?.split(/\s+/).sort(), ['130', '143']);
  const exec = unitValue(text, 'ExecStart') ?? '';
  assert.match(exec, /run-follower\.js --serve --config \/etc\/llmos\/config\.yaml$/);
  assert.doesNotMatch(exec, / -( |$)/, 'goals do not come from standard input');
  assert.equal(unitValue(text, 'StandardInput'), 'null');
  assert.equal(unitValue(text, 'ProtectSystem'), 'strict');
  assert.equal(unitValue(text, 'NoNewPrivileges'), 'yes');
  // Each of these hides /dev/gpiochip* and /dev/tty*, makes /sys/class/gpio read-only, or breaks V8.
  const keys = new Set(unitEntries(text).map(([k]) => k));
  for (const k of ['PrivateDevices', 'ProtectKernelTunables', 'ProtectClock', 'DeviceAllow', 'DevicePolicy', 'MemoryDenyWriteExecute']) {
    assert.ok(!keys.has(k), `${k} would cut the runtime off its hardware`);
  }
});

test('the example config loads, and everything it writes is inside the unit\'s writable paths', () => {
  const cfg = loadConfig({ file: packagePath('deploy', 'config.example.yaml') });
  assert.equal(cfg.preset, 'production');
  const writable = unitEntries(readFileSync(UNIT, 'utf8')).filter(([k]) => k === 'ReadWritePaths').flatMap(([, v]) => v.split(/\s+/));
  assert.ok(writable.length > 0);
  for (const [name, path] of Object.entries(cfg.paths)) {
    assert.ok(writable.some((w) => path === w || path.startsWith(`${w}/`)), `paths.${name} (${path}) is not writable under ProtectSystem=strict`);
  }
  assert.match(unitValue(readFileSync(UNIT, 'utf8'), 'WorkingDirectory') ?? '', /^\/var\/lib\/llmos$/);
});

// --- the sd_notify client ----------------------------------------------------------------------

function stubbed(watchdogUsec?: number): { sd: SdNotify; sent: string[][]; clock: { t: number }; logs: string[]; release: () => void; hold: (on: boolean) => void } {
  const sent: string[][] = [];
  const clock = { t: 0 };
  const logs: string[] = [];
  let held = false;
  let waiting: Array<() => void> = [];
  const sd = new SdNotify({
    socket: '/run/fake',
    ...(watchdogUsec ? { watchdogUsec } : {}),
    now: () => clock.t,
    pid: 4242,
    log: (m) => logs.push(m),
    send: (args) => { sent.push([...args]); return held ? new Promise<void>((r) => { waiting.push(r); }) : Promise.resolve(); },
  });
  return { sd, sent, clock, logs, hold: (on) => { held = on; }, release: () => { for (const r of waiting) r(); waiting = []; } };
}

test('sd-notify: no NOTIFY_SOCKET, no notifier; with one, the watchdog interval is half of WATCHDOG_USEC and the variables leave the environment', () => {
  assert.equal(SdNotify.fromEnv({}), undefined);
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '5000000', WATCHDOG_PID: '77', KEEP: '1' };
  const sd = SdNotify.fromEnv(env, { pid: 77 });
  assert.equal(sd?.pingMs, 2500);
  assert.deepEqual(env, { KEEP: '1' }, 'children do not inherit the socket');
  assert.equal(SdNotify.fromEnv({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '5000000', WATCHDOG_PID: '78' }, { pid: 77 })?.pingMs, undefined, 'the watchdog is for another process');
  assert.equal(SdNotify.fromEnv({ NOTIFY_SOCKET: '/s' })?.pingMs, undefined);
});

test('sd-notify: READY with the main pid, one-line STATUS, WATCHDOG only after READY, when due and one at a time, STOPPING once', async () => {
  const { sd, sent, clock, hold, release } = stubbed(2_000_000);
  sd.pet();
  assert.deepEqual(sent, [], 'no ping before start-up is complete');
  await sd.ready('24 traces;\nserving llmos/x/cmd/+');
  assert.deepEqual(sent.shift(), ['--pid=4242', 'READY=1', 'STATUS=24 traces; serving llmos/x/cmd/+']);
  clock.t = 999; sd.pet();
  assert.deepEqual(sent, [], 'not due before half the watchdog time');
  clock.t = 1000; sd.pet(); sd.pet();
  assert.deepEqual(sent.splice(0), [['WATCHDOG=1']]);
  await sleep(0);
  hold(true);
  clock.t = 2000; sd.pet();
  clock.t = 3500; sd.pet();
  assert.deepEqual(sent.splice(0), [['WATCHDOG=1']], 'a ping in flight is not doubled');
  release(); hold(false);
  await sleep(0);
  clock.t = 4000; sd.pet();
  assert.deepEqual(sent.splice(0), [['WATCHDOG=1']]);
  await sd.status('e-stop engaged');
  assert.deepEqual(sent.shift(), ['STATUS=e-stop engaged']);
  await sd.stopping('stopping');
  await sd.stopping('again');
  clock.t = 10_000; sd.pet();
  assert.deepEqual(sent, [['STOPPING=1', 'STATUS=stopping']]);
});

test('sd-notify: a STOPPING that systemd never acknowledges does not hold up shutdown; a failing transport is reported once', async () => {
  const { sd, sent, hold } = stubbed();
  hold(true);
  await sd.stopping(undefined, 20);
  assert.deepEqual(sent, [['STOPPING=1']]);
  const logs: string[] = [];
  const failing = new SdNotify({ socket: '/s', watchdogUsec: 2000, log: (m) => logs.push(m), send: () => Promise.reject(new Error('systemd-notify: not found')) });
  await failing.ready();
  await failing.status('x');
  assert.equal(logs.length, 1);
  assert.match(logs[0] ?? '', /cannot notify systemd \(READY=1\): systemd-notify: not found/);
});

// --- the real runner, systemd-notify and a fake NOTIFY_SOCKET -----------------------------------

const python = which('python3');
const notifyTool = which('systemd-notify');

/** A unix datagram listener standing in for systemd: one JSON string per message on stdout. */
const LISTENER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("LISTENING"), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(64))
    # BARRIER=1 carries a file descriptor; closing it is the acknowledgement systemd-notify waits for.
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps(data.decode()), flush=True)
`;

async function fakeSystemd(dir: string): Promise<{ messages: () => string[]; stop: () => void; socket: string }> {
  const script = join(dir, 'listen.py');
  writeFileSync(script, LISTENER);
  const socket = join(dir, 'notify.sock');
  const child = spawn(python as string, [script, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const messages = (): string[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as string).filter((m) => m !== 'LISTENING' && m !== 'BARRIER=1');
  await until(() => out.includes('LISTENING'), 10_000, 'fake NOTIFY_SOCKET');
  return { messages, stop: () => child.kill('SIGKILL'), socket };
}

for (const [label, extra] of [['safety watchdog heartbeat', []], ['main-loop timer (virtual time, no safety watchdog)', ['--sim-time', 'virtual']]] as const) {
  test(`run-follower --serve under a fake systemd: READY, WATCHDOG pings from the ${label}, STOPPING on SIGTERM`, { skip: !python ? 'python3 is not installed' : !notifyTool ? 'systemd-notify is not installed' : false }, async () => {
    const dir = tempDir();
    cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
    const systemd = await fakeSystemd(dir);
    try {
      // stdin is /dev/null, as with the unit's StandardInput=null; pings every 100 ms.
      const child = spawn(process.execPath, [BIN, '--serve', '--board', 'sim', '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), ...extra], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: systemd.socket, WATCHDOG_USEC: '200000' },
      });
      let err = '';
      child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = exitOf(child);
      await until(() => systemd.messages().some((m) => m.includes('READY=1')), 15_000, 'READY=1');
      const ready = systemd.messages().find((m) => m.includes('READY=1')) ?? '';
      assert.match(ready, new RegExp(`^MAINPID=${child.pid}$`, 'm'));
      assert.match(ready, /^STATUS=\d+ traces; idle \(no MQTT broker configured\)$/m);
      await until(() => systemd.messages().filter((m) => m === 'WATCHDOG=1').length >= 3, 10_000, 'three WATCHDOG=1 pings');
      assert.equal(child.exitCode, null, 'still serving with nothing on standard input');
      child.kill('SIGTERM');
      assert.equal(await exited, 143, err);
      await until(() => systemd.messages().some((m) => m.startsWith('STOPPING=1')), 5000, 'STOPPING=1');
      const order = systemd.messages().map((m) => m.split('\n')[0]);
      assert.ok(order.indexOf('STOPPING=1') > order.lastIndexOf('WATCHDOG=1'), `no ping after STOPPING: ${order.join(' | ')}`);
    } finally {
      systemd.stop();
    }
  });
}

test('run-follower --serve with standard input at /dev/null and no broker stays up until SIGTERM', async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, [BIN, '--serve', '--board', 'sim', '--traces', packagePath('traces'), '--state', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = exitOf(child);
  await until(() => /idle until stopped/.test(err), 15_000, 'the idle message');
  await sleep(300);
  assert.equal(child.exitCode, null, 'did not exit at the end of its (empty) input');
  child.kill('SIGTERM');
  assert.equal(await exited, 143);
});

// --- the install script --------------------------------------------------------------------------

test('install.sh parses (bash -n) and is shellcheck-clean where shellcheck is installed', () => {
  const n = spawnSync('bash', ['-n', INSTALL], { encoding: 'utf8' });
  assert.equal(n.status, 0, n.stderr);
  const sc = which('shellcheck');
  if (!sc) return;
  const r = spawnSync(sc, [INSTALL], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
});

// A system-wide path, as on a board (the script refuses a node in a home directory, e.g. nvm's);
// a dry run does not need it to exist.
const DRY_RUN_NODE = '/usr/bin/node';

test('install.sh --dry-run prints every step and changes nothing', () => {
  const dir = tempDir();
  const prefix = join(dir, 'opt', 'llmos');
  const r = spawnSync('bash', [INSTALL, '--dry-run', '--prefix', prefix, '--node', DRY_RUN_NODE], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  for (const step of [
    /^\+ usermod --append --groups gpio,dialout(,i2c)?(,spi)? llmos$/m,
    new RegExp(`^\\+ cp -R \\S+/dist ${prefix}\\.new/$`, 'm'),
    // The native bindings build against the installed Node's headers (npm_config_nodedir), never a download.
    new RegExp(`^\\+ runuser -u llmos -- env HOME=\\S+ npm_config_cache=\\S+ npm_config_nodedir=/\\S+ npm --prefix ${prefix}\\.new ci --omit=dev --ignore-scripts`, 'm'),
    new RegExp(`^\\+ runuser -u llmos -- env HOME=\\S+ npm_config_cache=\\S+ npm_config_nodedir=/\\S+ npm --prefix ${prefix}\\.new rebuild$`, 'm'),
    new RegExp(`^\\+ mv ${prefix}\\.new ${prefix}$`, 'm'),
    /^\+ write \/etc\/llmos\/config\.example\.yaml /m,
    /^\+ install -d -m 0750 -o llmos -g llmos \/var\/lib\/llmos$|keeping \/var\/lib\/llmos$/m,
    /^\+ write \/etc\/systemd\/system\/llmos\.service \(mode 0644, root:root\)$/m,
    new RegExp(`^ +ExecStart=${DRY_RUN_NODE} ${prefix}/dist/bin/run-follower\\.js --serve --config /etc/llmos/config\\.yaml$`, 'm'),
    /^\+ systemctl daemon-reload$/m,
    /^\+ systemctl enable llmos\.service$/m,
    /^\+ systemctl restart llmos\.service$/m,
  ]) assert.match(out, step);
  // The configuration is created only when absent: one of the two, never an overwrite.
  assert.ok(/^\+ write \/etc\/llmos\/config\.yaml \(mode 0640, root:llmos\)$/m.test(out) || /keeping \/etc\/llmos\/config\.yaml/.test(out));
  assert.equal(existsSync(join(dir, 'opt')), false, 'the dry run created nothing');

  const noEnable = spawnSync('bash', [INSTALL, '--dry-run', '--no-enable', '--prefix', prefix, '--node', DRY_RUN_NODE], { encoding: 'utf8' });
  assert.equal(noEnable.status, 0, noEnable.stderr);
  assert.doesNotMatch(noEnable.stdout, /^\+ systemctl (enable|restart)/m);
  assert.match(noEnable.stdout, /not enabled \(--no-enable\)/);
});

test('install.sh refuses a dangerous prefix and unknown options with status 2', () => {
  for (const args of [['--prefix', '/'], ['--prefix', '/opt'], ['--prefix', 'relative/dir'], ['--bogus']]) {
    const r = spawnSync('bash', [INSTALL, '--dry-run', '--node', DRY_RUN_NODE, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /install\.sh: /);
  }
});
