import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LlmosError } from '../lib/errors.js';
import { loadConfig, PRESETS } from '../runtime/config.js';
import { tempDir } from './helpers.js';

function expectConfigError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LlmosError);
    assert.equal(e.code, 'ERR_CONFIG_INVALID');
    assert.match(e.message, pattern);
    return true;
  });
}

test('presets mirror the seed: development is cheap and manual, production learns on its own', () => {
  const dev = loadConfig({ cwd: tempDir() });
  const prod = loadConfig({ cwd: tempDir(), overrides: { preset: 'production' } });
  assert.equal(dev.preset, 'development');
  assert.equal(dev.budget.usd, 1);
  assert.equal(dev.crystallization.auto, false);
  assert.equal(prod.budget.usd, 100);
  assert.equal(prod.crystallization.auto, true);
  for (const c of [dev, prod]) {
    assert.equal(c.modes.follower_threshold, 0.92);
    assert.equal(c.modes.mixed_threshold, 0.75);
    assert.equal(c.tools.system.enabled, false, 'system tools are off by default');
    assert.equal(c.sentience.enabled, true);
    assert.equal(c.safety.deadman_ms, 500);
  }
  assert.ok(Object.isFrozen(dev) && Object.isFrozen(dev.safety), 'config is frozen');
  assert.ok(PRESETS.development && PRESETS.production);
});

test('file values override the preset, flags override the file; relative paths resolve against the file', () => {
  const dir = tempDir();
  const file = join(dir, 'llmos.yaml');
  writeFileSync(file, 'preset: production\nboard: boards/mine.yaml\npaths: { traces: my-traces }\nsafety: { deadman_ms: 250 }\nbudget: { usd: 5 }\n');
  const cfg = loadConfig({ file, cwd: '/', overrides: { safety: { deadman_ms: 100 }, paths: { state: 'st' } } });
  assert.equal(cfg.preset, 'production');
  assert.equal(cfg.budget.usd, 5);
  assert.equal(cfg.budget.llm_calls_per_goal, PRESETS.production.budget?.llm_calls_per_goal, 'other preset fields kept');
  assert.equal(cfg.safety.deadman_ms, 100, 'flag wins');
  assert.equal(cfg.board, join(dir, 'boards/mine.yaml'));
  assert.equal(cfg.paths.traces, join(dir, 'my-traces'));
  assert.equal(cfg.paths.state, '/st');
  assert.equal(cfg.source, file);
});

test('a bad config names the file and the field', () => {
  const dir = tempDir();
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'safety: { deadman_ms: 10 }\n');
  expectConfigError(() => loadConfig({ file }), /bad\.yaml: \/safety\/deadman_ms: must be >= 30/);
  writeFileSync(file, 'safty: {}\n');
  expectConfigError(() => loadConfig({ file }), /\/safty: is not a known field/);
  writeFileSync(file, 'modes: { follower_threshold: 0.5, mixed_threshold: 0.8 }\n');
  expectConfigError(() => loadConfig({ file }), /mixed_threshold \(0\.8\) must not exceed/);
  writeFileSync(file, 'preset: [\n');
  expectConfigError(() => loadConfig({ file }), /bad\.yaml:\d+:\d+: invalid YAML/);
  writeFileSync(file, 'safety: { hooks: [{ event: pre_tool_use, tool: "(", decision: BLOCK }] }\n');
  expectConfigError(() => loadConfig({ file }), /\/safety\/hooks\/0\/tool: not a valid regular expression/);
});

test('bad command-line overrides are reported like bad files', () => {
  expectConfigError(() => loadConfig({ overrides: { sim: { time: 'fast' as 'real' } } }), /command-line options: \/sim\/time: must be one of "real", "virtual"/);
  expectConfigError(() => loadConfig({ overrides: { device_id: 'has spaces' } }), /\/device_id/);
});

test('a broker URL that cannot connect is refused when the configuration loads, not only under --serve', () => {
  const state = tempDir();
  expectConfigError(() => loadConfig({ overrides: { mqtt: { url: 'notaurl' }, paths: { state } } }), /command-line options \(--mqtt\): \/mqtt\/url: "notaurl" is not a URL/);
  expectConfigError(() => loadConfig({ overrides: { mqtt: { url: 'ftp://u:secret@broker:21' }, paths: { state } } }), /unsupported scheme "ftp"/);
  assert.throws(() => loadConfig({ overrides: { mqtt: { url: 'ftp://u:secret@broker:21' }, paths: { state } } }), (e: unknown) => e instanceof LlmosError && !e.message.includes('secret'));
  const file = join(tempDir(), 'broker.yaml');
  writeFileSync(file, 'mqtt: { url: "mqtt://" }\n');
  expectConfigError(() => loadConfig({ file }), /broker\.yaml: \/mqtt\/url: "mqtt:\/\/" names no host/);
  assert.equal(loadConfig({ overrides: { mqtt: { url: 'mqtts://broker.local:8883' }, paths: { state } } }).mqtt.url, 'mqtts://broker.local:8883');
});

test('a missing config file is ERR_CONFIG_NOT_FOUND', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/llmos.yaml' }), (e: unknown) => e instanceof LlmosError && e.code === 'ERR_CONFIG_NOT_FOUND');
});

test('logs follow the state directory unless placed elsewhere', () => {
  const dir = tempDir();
  assert.equal(loadConfig({ cwd: dir, overrides: { paths: { state: '/var/lib/x/state' } } }).paths.logs, '/var/lib/x/state/logs');
  assert.equal(loadConfig({ cwd: dir, overrides: { paths: { state: 's', logs: '/var/log/llmos' } } }).paths.logs, '/var/log/llmos');
  assert.equal(loadConfig({ cwd: dir }).paths.logs, join(dir, 'state', 'logs'));
});
