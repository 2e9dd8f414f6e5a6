/**
 * Hostile edges of the command line (issue 18 items 4, 5, 9, 11, 12): credentials in a broker
 * URL, topic prefixes that cannot work, paths that are not what they claim, a reader that closes
 * early, stale temporaries.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { runBin, simWorldFile, tempDir } from './helpers.js';
import { startBroker } from './mqtt-broker.js';

const SECRET = 'pa55-s3cret-w0rd';

function serveUntil(args: string[], pattern: RegExp): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), ...args], { cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const bound = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no ${pattern} within 60 s: ${stderr}`)); }, 60000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (pattern.test(stderr)) child.kill('SIGTERM');
    });
    child.on('close', (code) => { clearTimeout(bound); resolve({ code, stderr }); });
  });
}

test('the broker password never appears on stderr: connected, refused and misconfigured', async () => {
  const broker = await startBroker();
  try {
    const dir = tempDir();
    const url = broker.url.replace('://', `://robot:${SECRET}@`);
    const common = ['--serve', '--sim-time', 'virtual', '--state', `${dir}/state`, '--log-level', 'debug', '--device-id', `red${process.pid}`];
    const ok = await serveUntil([...common, '--mqtt', url], /serving .* on /);
    assert.match(ok.stderr, /on mqtt:\/\/\*\*\*@127\.0\.0\.1/);
    assert.ok(!ok.stderr.includes(SECRET), ok.stderr);
    const refused = await serveUntil([...common, '--mqtt', `mqtt://robot:${SECRET}@127.0.0.1:1`], /mqtt: .*ECONNREFUSED/);
    assert.ok(!refused.stderr.includes(SECRET), refused.stderr);
    const prod = await runBin('run-follower.js', [...common, '--preset', 'production', '--mqtt', `mqtt://robot:${SECRET}@broker.example.com:1883`]);
    assert.equal(prod.code, 2);
    assert.match(prod.stderr, /refuses a plaintext broker/);
    assert.ok(!prod.stderr.includes(SECRET), prod.stderr);
  } finally {
    await broker.stop();
  }
});

test('mqtt.base_topic (or the discovery prefix) with a wildcard or a leading $ is a configuration error, exit 2', async () => {
  for (const bad of ['#', 'llmos/+', '$SYS', 'a//b', 'x\u0000y']) {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/config.yaml`, `mqtt:\n  base_topic: ${JSON.stringify(bad)}\n`);
    const r = await runBin('run-follower.js', ['--config', `${dir}/config.yaml`, '--serve', '--mqtt', 'mqtt://127.0.0.1:1', '--state', `${dir}/state`]);
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
    assert.match(r.stderr, /ERR_CONFIG_INVALID: .*\/mqtt\/base_topic/, r.stderr);
  }
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/config.yaml`, 'mqtt:\n  home_assistant: { enabled: true, prefix: "homeassistant/#" }\n');
  const r = await runBin('run-follower.js', ['--config', `${dir}/config.yaml`, '--state', `${dir}/state`, 'beep']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/mqtt\/home_assistant\/prefix/);
});

test('paths that are not what they claim: a clear ERR_PATH_UNUSABLE and exit 2, never a hang or ERR_INTERNAL', async () => {
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const dir = tempDir();
  writeFileSync(`${dir}/file`, 'x');
  mkdirSync(`${dir}/adir`);
  const cases: Array<[string[], RegExp]> = [
    [['--state', '/proc'], /state directory .* \/proc: is not writable/],
    [['--state', '/proc/self/nope'], /\/proc\/self\/nope: cannot be created/],
    [['--state', `${dir}/file`], /is a regular file, not a directory/],
    [['--board', '/dev/zero'], /\/dev\/zero: is a character device, not a regular file/],
    [['--config', '/dev/zero'], /\/dev\/zero: is a character device/],
    [['--sim-log', `${dir}/missing/x.jsonl`], /sim log .*its directory .*missing does not exist/],
    [['--sim-log', `${dir}/adir`], /sim log .*is a directory, not a regular file/],
    [['--sim-log', '/proc/nope.jsonl'], /sim log .*cannot be created/],
  ];
  for (const [args, message] of cases) {
    const r = await runBin('run-follower.js', [...(args.includes('--state') ? [] : ['--state', `${dir}/state`]), ...args, '--sim-time', 'virtual', 'turn on the led']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /ERR_PATH_UNUSABLE: /, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('--json into a reader that closes early: ends quietly (no EPIPE stack), goals cut short are not trace failures', async () => {
  const { cpSync } = await import('node:fs');
  const dir = tempDir();
  cpSync(packagePath('traces'), `${dir}/traces`, { recursive: true });
  // A room big enough for every drive: on a busy machine more goals finish before the closed pipe
  // is noticed, and the fifth 0.5 m drive of the default room would be refused by its wall.
  const world = simWorldFile({ room: { width_m: 100, depth_m: 100 } });
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--json', '--traces', `${dir}/traces`, '--state', `${dir}/state`, '--sim-world', world, '-'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.end('drive forward 0.5 meters\n'.repeat(20));
  // Like `| head -c 10`: take the first bytes, then close the pipe.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve, reject) => {
    const bound = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`still running after 120 s: ${stderr}`)); }, 120000);
    child.on('close', (c) => { clearTimeout(bound); resolve(c); });
  });
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|ERR_INTERNAL|\n\s+at /, stderr);
  const show = await runBin('llmos.js', ['traces', 'show', 'drive-forward', '--json', '--traces', `${dir}/traces`, '--state', `${dir}/state`]);
  const t = JSON.parse(show.stdout) as { success_rate: number; usage_count: number };
  assert.equal(t.success_rate, 1, 'no run cut short counted as a failure');
  assert.ok(t.usage_count < 4 + 20, `the queued goals did not all run: ${t.usage_count}`);
});

test('stale temporaries of this program are removed at start; a live writer\'s and other files are kept', async () => {
  const { cpSync, existsSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const dir = tempDir();
  cpSync(packagePath('traces'), `${dir}/traces`, { recursive: true });
  mkdirSync(`${dir}/state/cache`, { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const stale = [`${dir}/traces/.wave.yaml.${dead}.3.abc123.tmp`, `${dir}/state/.sentience.json.${dead}.1.zz9.tmp`, `${dir}/state/cache/.doc-1.json.${dead}.7.q1w2e3.tmp`, `${dir}/traces/.bundle.tar.${dead}.tmp`];
  const kept = [`${dir}/traces/.live.yaml.${process.pid}.1.abcdef.tmp`, `${dir}/traces/notes.tmp`, `${dir}/state/mine.tmp`];
  for (const f of [...stale, ...kept]) writeFileSync(f, 'partial');
  const r = await runBin('run-follower.js', ['--traces', `${dir}/traces`, '--state', `${dir}/state`, '--sim-time', 'virtual', 'turn on the led']);
  assert.equal(r.code, 0, r.stderr);
  for (const f of stale) assert.ok(!existsSync(f), `removed: ${f}`);
  for (const f of kept) assert.ok(existsSync(f), `kept: ${f}`);
});
