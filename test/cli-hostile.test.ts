/**
 * Hostile edges of the command line (issue 18 items 4, 5, 9, 11, 12): credentials in a broker
 * URL, topic prefixes that cannot work, paths that are not what they claim, a reader that closes
 * early, stale temporaries.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { runBin, tempDir } from './helpers.js';
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
