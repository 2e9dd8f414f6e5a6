/**
 * Watching a run: `llmos export mcap` read back with the MCAP reader (@mcap/core), and `llmos
 * plot` rendered by a real browser (Debian's headless Chromium) to a PNG.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { McapStreamReader, type TypedMcapRecord } from '@mcap/core';
import { packagePath } from '../lib/paths.js';
import { readSimLog, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

async function simRun(): Promise<{ dir: string; simLog: string }> {
  const dir = tempDir('llmos-view-');
  const simLog = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const r = await runMain('run-follower', ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', '--sim-log', simLog, '-'], {
    input: 'drive forward 1 meter\nwave hello\nturn on the led\n',
  });
  assert.equal(r.code, 0, r.stderr);
  return { dir, simLog };
}

function readMcap(file: string): TypedMcapRecord[] {
  const reader = new McapStreamReader();
  reader.append(readFileSync(file));
  const out: TypedMcapRecord[] = [];
  for (let rec = reader.nextRecord(); rec; rec = reader.nextRecord()) out.push(rec);
  assert.ok(reader.done(), 'the file ends with its footer and magic');
  return out;
}

test('export mcap: one message per sim-log write, on its actuator\'s channel, in time order', async () => {
  const { dir, simLog } = await simRun();
  const out = join(dir, 'run.mcap');
  const r = await runMain('llmos', ['export', 'mcap', '--sim-log', simLog, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const writes = readSimLog(simLog);
  assert.ok(writes.length > 50, 'the run wrote');
  const records = readMcap(out);
  const channels = new Map<number, string>();
  for (const rec of records) if (rec.type === 'Channel') channels.set(rec.id, rec.topic);
  const schemas = records.filter((rec) => rec.type === 'Schema');
  assert.ok(schemas.every((s) => s.type === 'Schema' && s.encoding === 'jsonschema'));
  const messages = records.flatMap((rec) => (rec.type === 'Message' ? [rec] : []));
  assert.equal(messages.length, writes.length, 'one message per write');
  const times = messages.map((m) => m.logTime);
  assert.deepEqual(times, [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'in time order');
  const decoded = messages.map((m) => ({ topic: channels.get(m.channelId), body: JSON.parse(new TextDecoder().decode(m.data)) as { t: number; actuator: string; value: unknown; channel?: string } }));
  for (const [i, w] of writes.entries()) {
    const m = decoded[i];
    assert.equal(m?.body.t, w.t);
    assert.equal(m?.body.actuator, w.actuator);
    assert.deepEqual(m?.body.value, w.value);
    assert.equal(m?.topic, `/actuators/${w.actuator}${w.channel ? `/${w.channel}` : ''}`);
    assert.equal(messages[i]?.logTime, BigInt(Math.round(w.t * 1e6)));
  }
  for (const topic of ['/actuators/base/left', '/actuators/base/right', '/actuators/arm', '/actuators/led']) assert.ok([...channels.values()].includes(topic), topic);
});

test('export mcap and plot: a torn last line is skipped; a damaged line, a missing log or a missing flag is a clear error and writes nothing', async () => {
  const dir = tempDir('llmos-view-');
  const log = join(dir, 'sim.jsonl');
  writeFileSync(log, '{"t":0,"actuator":"led","value":true}\n{"t":5,"actuator":"led","val');
  const ok = await runMain('llmos', ['export', 'mcap', '--sim-log', log, '--out', join(dir, 'a.mcap'), '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { messages: number; torn_lines: number }).messages, 1);
  writeFileSync(log, '{"t":0,"actuator":"led","value":true}\nnot json\n{"t":5,"actuator":"led","value":false}\n');
  for (const args of [['export', 'mcap', '--sim-log', log, '--out', join(dir, 'b.mcap')], ['plot', '--sim-log', log, '--out', join(dir, 'b.svg')]]) {
    const bad = await runMain('llmos', args);
    assert.equal(bad.code, 2, args.join(' '));
    assert.match(bad.stderr, /sim\.jsonl:2: not a JSON line/);
  }
  assert.ok(!existsSync(join(dir, 'b.mcap')) && !existsSync(join(dir, 'b.svg')), 'nothing written');
  const good = join(dir, 'good.jsonl');
  writeFileSync(good, '{"t":0,"actuator":"led","value":true}\n');
  for (const args of [['export', 'mcap', '--sim-log', good, '--out', dir], ['plot', '--sim-log', good, '--out', join(good, 'p.svg')]]) {
    const bad = await runMain('llmos', args);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, /ERR_USAGE: --out .*(is a directory|is not a directory)/);
  }
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp')), [], 'no temporary file is left behind');
  const zero = await runMain('llmos', ['plot', '--sim-log', '/dev/zero', '--out', join(dir, 'z.svg')]);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /\/dev\/zero: not a regular file/);
  const missing = await runMain('llmos', ['export', 'mcap', '--sim-log', join(dir, 'nope.jsonl'), '--out', join(dir, 'c.mcap')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such sim log/);
  const noOut = await runMain('llmos', ['plot', '--sim-log', log]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out FILE is required/);
});

test('plot and export mcap take a long run (300k writes) without running out of stack', async () => {
  const dir = tempDir('llmos-view-');
  const log = join(dir, 'long.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 300000; i++) lines.push(JSON.stringify({ t: i * 20, actuator: 'buzzer', value: (i % 100) / 100 }));
  writeFileSync(log, `${lines.join('\n')}\n`);
  const plot = await runMain('llmos', ['plot', '--sim-log', log, '--out', join(dir, 'long.svg'), '--json']);
  assert.equal(plot.code, 0, plot.stderr);
  const mcap = await runMain('llmos', ['export', 'mcap', '--sim-log', log, '--out', join(dir, 'long.mcap'), '--json']);
  assert.equal(mcap.code, 0, mcap.stderr);
  assert.equal((JSON.parse(mcap.stdout) as { messages: number }).messages, 300000);
});

/** Headless Chromium as this machine's probe starts it: no network, no sandbox (root), a fresh profile. */
function chromium(args: readonly string[], profile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--window-size=900,500', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const hasChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].some((p) => existsSync(p));

test('plot: the SVG renders in headless Chromium to a PNG with a panel per series', { skip: !hasChromium && process.env['LLMOS_CI'] !== '1' ? 'chromium not installed (apt-get install chromium); CI installs it' : false }, async () => {
  const { dir, simLog } = await simRun();
  const svg = join(dir, 'plot.svg');
  const r = await runMain('llmos', ['plot', '--sim-log', simLog, '--out', svg, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { series: string[] }).series, ['arm', 'base/left', 'base/right', 'led']);
  const text = readFileSync(svg, 'utf8');
  assert.equal((text.match(/<g class="series"/g) ?? []).length, 4);
  // The browser's own parse: a broken SVG renders as an error page (which a screenshot would not show).
  const dom = await chromium(['--dump-dom', `file://${svg}`], join(dir, 'chromium-dom'));
  assert.equal(dom.code, 0, dom.stderr);
  assert.doesNotMatch(dom.stdout, /parsererror|error on line/i, 'the SVG parses');
  assert.equal((dom.stdout.match(/<polyline/g) ?? []).length, 4, 'one drawn line per series');
  const png = join(dir, 'plot.png');
  const shot = await chromium([`--screenshot=${png}`, `file://${svg}`], join(dir, 'chromium-profile'));
  assert.equal(shot.code, 0, shot.stderr);
  const bytes = readFileSync(png);
  assert.deepEqual([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  assert.ok(bytes.length > 5000, `a drawn picture, not a blank page (${bytes.length} bytes)`);
});
