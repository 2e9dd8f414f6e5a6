/**
 * The agentic follower's agents (markdown system prompts), its CLI, and recall by embeddings.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { tempDir } from './helpers.js';
import { runMain } from './run-main.js';
import { call } from './ollama-server.js';
import { useOllama, server, url, reset, robot, NOD } from './agentic-harness.js';

useOllama();

test('agents are markdown files used as system prompts and reloaded when they change', async () => {
  const dir = join(tempDir(), 'agents');
  mkdirSync(dir);
  writeFileSync(join(dir, 'robot-operator.md'), '---\nid: robot-operator\nconstraints: [Never touch the winch.]\n---\nYou are Rover Seven.\n');
  const r = await robot({ paths: { agents: dir } });
  try {
    server.script(...NOD);
    await r.os.execute('nod the arm', { allowLlm: true });
    const system = server.chats()[0]?.messages[0]?.content ?? '';
    assert.match(system, /You are Rover Seven\./);
    assert.match(system, /- Never touch the winch\./);
    writeFileSync(join(dir, 'robot-operator.md'), '---\nid: robot-operator\n---\nYou are Rover Eight.\n');
    let text = '';
    for (let i = 0; i < 40 && !text.includes('Eight'); i++) {
      await new Promise((res) => setTimeout(res, 50));
      reset();
      server.script({ content: 'nothing to do' });
      await r.os.execute('sing a song', { allowLlm: true });
      text = server.chats()[0]?.messages[0]?.content ?? '';
    }
    assert.match(text, /You are Rover Eight\./);
  } finally {
    await r.cleanup();
  }
});

test('run-agentic-follower CLI: --json, flags for the model and the host, exit codes', async () => {
  reset();
  server.script(
    { tool_calls: [call('search_tools', { query: 'buzzer' })] },
    { tool_calls: [call('pwm_write', { actuator: 'buzzer', duty: 0.2 })] },
    { content: 'Done.' },
  );
  const dir = tempDir();
  const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> => new Promise((resolve) => {
    const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-agentic-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', ...args]);
    let out = ''; let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => resolve({ code, out, err }));
  });
  const res = await run(['--ollama-host', url, '--model', 'tiny-test-model', '--json', 'hum quietly']);
  assert.equal(res.code, 0, res.err);
  const line = JSON.parse(res.out.trim()) as { mode: string; llm_calls: number; ok: boolean; learned: string };
  assert.equal(line.mode, 'LEARNER');
  assert.equal(line.llm_calls, 3);
  assert.equal(server.chats()[0]?.model, 'tiny-test-model');
  assert.ok(readFileSync(join(dir, 'traces', (await import('node:fs')).readdirSync(join(dir, 'traces'))[0] as string), 'utf8').includes('pwm_write'));
  // Usage and help: the command's main in-process (the run above spawned the bundled launcher).
  const inProcess = (args: string[]) => runMain('run-agentic-follower', ['--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-time', 'virtual', ...args]);
  const bad = await inProcess(['--max-llm-calls', 'many', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /\/budget\/llm_calls_per_goal: must be integer/);
  const help = await inProcess(['--help']);
  assert.match(help.stdout, /--ollama-host URL/);
});

/** A toy embedding: which of a few concepts a text mentions. */
function concepts(text: string): number[] {
  const t = text.toLowerCase();
  const hits: number[] = [/\b(beep|buzz|sound|noise|alarm)/, /\b(light|led|lamp)\b/, /\b(drive|move|roll)/, /\b(arm|wave)\b/].map((re) => (re.test(t) ? 1 : 0));
  // A text about none of them points somewhere of its own (one of 997 directions).
  const own = new Array<number>(997).fill(0);
  if (!hits.some((h) => h > 0)) own[[...t].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 997, 7)] = 1;
  return [...hits, ...own];
}

test('embeddings recall: a goal the matcher misses runs as MIXED with the nearest trace as plan, never as FOLLOWER', async () => {
  const r = await robot({ modes: { embeddings: true, embedding_threshold: 0.8 } }, true);
  try {
    server.embedder = concepts;
    server.script({ content: JSON.stringify({ tool_calls: [{ name: 'pwm_write', args: { actuator: 'buzzer', duty: 0.5 } }, { name: 'wait', args: { ms: 200 } }, { name: 'pwm_write', args: { actuator: 'buzzer', duty: 0 } }] }) });
    const goal = 'give me an audible alarm signal';
    assert.equal(r.os.decide(goal, { allowLlm: true }).mode, 'LEARNER', 'the offline matcher does not know this wording');
    const res = await r.os.execute(goal, { allowLlm: true });
    assert.equal(res.mode, 'MIXED');
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.equal(res.llm_calls, 1);
    assert.match(res.reason ?? '', /recalled by embeddings/);
    const [chat] = server.chats();
    assert.match(chat?.messages[1]?.content ?? '', /similar goal "[^"]*(beep|buzz)[^"]*"/i, 'the recalled trace is the plan');
    assert.ok(r.writes().some((w) => w.actuator === 'buzzer' && w.value === 0.5));
    const seen = server.requests.length;
    // Trace vectors are cached: a second miss embeds only the new goal and the trace just learned.
    server.script({ content: 'I cannot do that.' });
    await r.os.execute('noise time', { allowLlm: true });
    const inputs = server.requests.slice(seen).filter((q) => q.path === '/api/embed').flatMap((q) => (q.body as unknown as { input: string[] }).input);
    assert.deepEqual(inputs.sort(), ['give me an audible alarm signal', 'noise time']);
    assert.ok(JSON.parse(readFileSync(join(r.dir, 'state', 'embeddings.json'), 'utf8')).model);
  } finally {
    await r.cleanup();
  }
});

test('embeddings recall: nothing similar enough, or no embedding model, means LEARNER as before', async () => {
  const r = await robot({ modes: { embeddings: true, embedding_threshold: 0.8 } }, true);
  try {
    server.embedder = () => { throw new Error('model "nomic-embed-text" not found, try pulling it first'); };
    server.script({ content: 'No tools needed.' });
    const res = await r.os.execute('give me an audible alarm signal', { allowLlm: true });
    assert.equal(res.mode, 'LEARNER');
    assert.deepEqual(server.chats()[0]?.tools?.map((t) => t.function.name), ['search_tools']);
    server.embedder = concepts;
    server.script({ content: 'No tools needed.' });
    const far = await r.os.execute('juggle three oranges', { allowLlm: true });
    assert.equal(far.mode, 'LEARNER');
  } finally {
    await r.cleanup();
  }
});
