/**
 * A model answer that never ends (issue 18 item 13): the Ollama client reads at most
 * ollama.max_response_bytes and fails with ERR_LLM_BAD_OUTPUT, without buffering the rest. A
 * local HTTP server streams 200 MB (chunked, and once with a declared length); the client runs
 * in a child process whose peak resident memory is measured.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';

const TOTAL = 200 * 1024 * 1024;

async function stream(res: ServerResponse, declare: boolean): Promise<number> {
  res.writeHead(200, { 'content-type': 'application/json', ...(declare ? { 'content-length': String(TOTAL) } : {}) });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  res.write('{"model":"m","message":{"role":"assistant","content":"');
  while (sent < TOTAL && !res.destroyed) {
    if (!res.write(chunk)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    sent += chunk.length;
  }
  res.end();
  return sent;
}

async function hugeAnswer(declare: boolean): Promise<{ code: string; message: string; maxRssMb: number; sentMb: number }> {
  let sent = 0;
  const server = createServer((req, res) => { req.resume(); void stream(res, declare).then((n) => { sent = n; }); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = packagePath('dist', 'runtime', 'ollama', 'client.js');
  const script = `
    const { OllamaAdapter } = await import(${JSON.stringify(client)});
    const a = new OllamaAdapter({ host: ${JSON.stringify(host)}, model: 'm', timeoutMs: 120000 });
    let out;
    try { await a.chat({ messages: [{ role: 'user', content: 'hi' }] }); out = { code: 'none', message: 'answered' }; }
    catch (e) { out = { code: e.code, message: e.message }; }
    out.maxRssMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify(out));`;
  try {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const bound = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no end within 180 s: ${err}`)); }, 180000);
      child.on('close', () => { clearTimeout(bound); resolve(); });
    });
    return { ...(JSON.parse(out) as { code: string; message: string; maxRssMb: number }), sentMb: sent / 1024 / 1024 };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('a 200 MB chunked model answer: ERR_LLM_BAD_OUTPUT, the client stays under 150 MB and stops reading', async (t) => {
  const r = await hugeAnswer(false);
  t.diagnostic(`peak RSS ${r.maxRssMb.toFixed(1)} MB; server sent ${r.sentMb.toFixed(1)} MB`);
  assert.equal(r.code, 'ERR_LLM_BAD_OUTPUT', r.message);
  assert.match(r.message, /larger than 4194304 bytes \(ollama\.max_response_bytes\)/);
  assert.ok(r.maxRssMb < 150, `peak RSS ${r.maxRssMb.toFixed(1)} MB`);
  assert.ok(r.sentMb < 200, `the server could not send it all (${r.sentMb} MB): the client hung up`);
});

test('a declared 200 MB answer is refused before its body is read', async (t) => {
  const r = await hugeAnswer(true);
  t.diagnostic(`peak RSS ${r.maxRssMb.toFixed(1)} MB; server sent ${r.sentMb.toFixed(1)} MB`);
  assert.equal(r.code, 'ERR_LLM_BAD_OUTPUT', r.message);
  assert.ok(r.maxRssMb < 150, `peak RSS ${r.maxRssMb.toFixed(1)} MB`);
});
