/**
 * The agentic follower against the real ollama-js client and a local server that speaks Ollama's
 * wire format with scripted replies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import type { ConfigInput } from '../runtime/config.js';
import { parseTextToolCalls } from '../runtime/ollama/text-tool-calls.js';
import { simRobot, tempDir, type SimRobot } from './helpers.js';
import { call, FakeOllama } from './ollama-server.js';

let server: FakeOllama;
let url = '';
before(async () => { server = new FakeOllama(); url = await server.start(); });
after(async () => { await server.close(); });

function reset(): void {
  server.requests.length = 0;
  server.fallback = undefined;
  server.embedder = undefined;
  (server as unknown as { queue: unknown[] }).queue.length = 0;
}

async function robot(overrides: ConfigInput = {}, shippedTraces = false): Promise<SimRobot> {
  reset();
  return simRobot({
    shippedTraces,
    overrides: { ...overrides, ollama: { host: url, timeout_ms: 2000, ...overrides.ollama }, paths: { agents: join(tempDir(), 'agents'), ...overrides.paths } },
  });
}

const NOD = [
  { tool_calls: [call('search_tools', { query: 'move the arm servo' })] },
  { tool_calls: [call('servo_move', { actuator: 'arm', angle: 110 }), call('servo_move', { actuator: 'arm', angle: 70 })] },
  { tool_calls: [call('servo_move', { actuator: 'arm', angle: 90 })] },
  { content: 'The arm nodded.' },
];

test('learn then follow: a LEARNER run becomes a trace; the same goal runs next as FOLLOWER with no LLM call', async () => {
  const r = await robot();
  try {
    server.script(...NOD);
    const first = await r.os.execute('nod the arm', { allowLlm: true });
    assert.equal(first.mode, 'LEARNER');
    assert.equal(first.ok, true, JSON.stringify(first.error));
    assert.equal(first.llm_calls, 4);
    assert.match(first.learned ?? '', /^[0-9a-f]{16}$/);
    const firstWrites = r.writes().map((w) => `${w.actuator}=${String(w.value)}`);
    assert.ok(firstWrites.includes('arm=110') && firstWrites.at(-1) === 'arm=90');
    const chats = server.chats();
    assert.deepEqual(chats[0]?.tools?.map((t) => t.function.name), ['search_tools'], 'the model starts with search_tools only');
    assert.ok(chats[1]?.tools?.some((t) => t.function.name === 'servo_move'), 'then gets the tools it asked for');
    assert.match(chats[0]?.messages[0]?.content ?? '', /\[internal state\] mode=/, 'the sentience block is in the prompt');
    const n = r.writes().length;
    const again = await r.os.execute('nod the arm', { allowLlm: true });
    assert.equal(again.mode, 'FOLLOWER');
    assert.equal(again.llm_calls, 0);
    assert.equal(server.chats().length, 4, 'no new model request');
    assert.deepEqual(r.writes().slice(n).filter((w) => w.actuator === 'arm').map((w) => w.value).filter((v) => [110, 70, 90].includes(v as number)), [110, 70, 90]);
  } finally {
    await r.cleanup();
  }
});

test('learning recognises the goal\'s numbers as parameters', async () => {
  const r = await robot();
  try {
    server.script(
      { tool_calls: [call('search_tools', { query: 'drive' })] },
      { tool_calls: [call('drive', { distance_m: 0.5, speed: 0.5 })] },
      { content: 'Done.' },
    );
    const first = await r.os.execute('roll ahead 50 cm', { allowLlm: true });
    assert.equal(first.ok, true, JSON.stringify(first.error));
    const rec = r.os.traces.get(first.learned as string);
    assert.deepEqual(rec?.trace.tool_calls[0]?.args, { distance_m: '{{distance_m}}', speed: 0.5 });
    // Bounded by the tool's range, and by "ahead": never backward (issue 17).
    assert.deepEqual(rec?.trace.parameters?.['distance_m'], { kind: 'length', unit: 'm', description: "from the goal's number (learned)", minimum: 0, maximum: 10 });
    const later = await r.os.execute('roll ahead 120 cm', { allowLlm: true });
    assert.equal(later.mode, 'FOLLOWER');
    assert.equal(later.steps[0]?.args['distance_m'], 1.2);
  } finally {
    await r.cleanup();
  }
});

test('MIXED: one reduced call adapts the nearest trace through a JSON-schema format; the result is replayed through the gate', async () => {
  const r = await robot({}, true);
  try {
    server.script({ content: JSON.stringify({ tool_calls: [{ name: 'drive', args: { distance_m: 0.3, speed: 0.3 } }] }) });
    const res = await r.os.execute('drive forward', { allowLlm: true });
    assert.equal(res.mode, 'MIXED');
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.equal(res.llm_calls, 1);
    const [chat] = server.chats();
    assert.ok(chat?.format && typeof chat.format === 'object', 'structured output requested');
    assert.match(chat?.messages[1]?.content ?? '', /similar goal "drive forward 1 meter"/);
    assert.ok(r.writes().some((w) => w.actuator === 'base'));
    assert.equal(r.os.decide('drive forward').mode, 'FOLLOWER', 'the adapted run was learned');
  } finally {
    await r.cleanup();
  }
});

test('malformed answers: no tool call, broken JSON, unknown tools: a clear error and nothing moves', async () => {
  const r = await robot({}, true);
  try {
    server.script({ content: 'I would love to help!' });
    const none = await r.os.execute('juggle the spare parts', { allowLlm: true });
    assert.equal(none.ok, false);
    assert.equal(none.error?.code, 'ERR_LLM_BAD_OUTPUT');
    server.script({ content: '{"tool_calls": [ {"name": "drive", ' });
    const broken = await r.os.execute('drive forward', { allowLlm: true });
    assert.equal(broken.mode, 'MIXED');
    assert.equal(broken.error?.code, 'ERR_LLM_BAD_OUTPUT');
    server.script({ content: JSON.stringify({ tool_calls: [{ name: 'teleport', args: {} }] }) });
    const unknown = await r.os.execute('drive forward', { allowLlm: true });
    assert.match(unknown.error?.message ?? '', /tools this board does not have: teleport/);
    assert.equal(r.writes().length, 0, 'nothing moved');
  } finally {
    await r.cleanup();
  }
});

test('tool calls outside the bounds are rejected by the gate; the run is not learned', async () => {
  const r = await robot();
  try {
    server.script(
      { tool_calls: [call('search_tools', { query: 'arm' })] },
      { tool_calls: [call('servo_move', { actuator: 'arm', angle: 250 })] },
      (body) => ({ content: body.messages.at(-1)?.content.includes('ERR_SAFETY_RANGE') ? 'The angle was out of range, so I stopped.' : 'Done.' }),
    );
    const res = await r.os.execute('point the arm at the ceiling', { allowLlm: true });
    assert.equal(res.ok, false, 'the model stopped after a refused call: the goal was not done');
    assert.equal(res.error?.code, 'ERR_SAFETY_RANGE');
    assert.equal(res.learned, undefined, 'a rejected run is never saved');
    assert.equal(res.steps[1]?.error?.code, 'ERR_SAFETY_RANGE');
    assert.ok(r.writes().every((w) => w.actuator !== 'arm' || (w.value as number) <= 180));
    assert.equal(r.os.traces.size, 0);
  } finally {
    await r.cleanup();
  }
});

test('a model that loops is stopped by the budget', async () => {
  const r = await robot({ budget: { llm_calls_per_goal: 5 } });
  try {
    server.fallback = { tool_calls: [call('search_tools', { query: 'anything' })] };
    const res = await r.os.execute('do something forever', { allowLlm: true });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_BUDGET_EXCEEDED');
    assert.equal(res.llm_calls, 5);
    assert.equal(server.chats().length, 5);
  } finally {
    await r.cleanup();
  }
});

test('a server that hangs: ERR_LLM_UNAVAILABLE within the timeout, nothing moves, deterministic goals still work', async () => {
  const r = await robot({ ollama: { timeout_ms: 300 } }, true);
  try {
    server.script({ hang: true });
    const t0 = Date.now();
    const res = await r.os.execute('juggle the spare parts', { allowLlm: true });
    assert.equal(res.error?.code, 'ERR_LLM_UNAVAILABLE');
    assert.match(res.error?.message ?? '', /did not answer within 300 ms/);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(r.writes().length, 0);
    const ok = await r.os.execute('beep', { allowLlm: true });
    assert.equal(ok.mode, 'FOLLOWER');
    assert.equal(ok.ok, true);
  } finally {
    await r.cleanup();
  }
});

test('Ollama not running: a clear error naming the host', async () => {
  const r = await robot({ ollama: { host: 'http://127.0.0.1:1', timeout_ms: 2000 } });
  try {
    const res = await r.os.execute('juggle', { allowLlm: true });
    assert.equal(res.error?.code, 'ERR_LLM_UNAVAILABLE');
    assert.match(res.error?.message ?? '', /cannot reach Ollama at http:\/\/127\.0\.0\.1:1/);
  } finally {
    await r.cleanup();
  }
});

test('tool calls written as text are read by the fallback parser', async () => {
  assert.deepEqual(parseTextToolCalls('Sure: {"name": "drive", "arguments": {"distance_m": 1}}'), [{ name: 'drive', arguments: { distance_m: 1 } }]);
  assert.deepEqual(parseTextToolCalls('```json\n[{"tool": "wait", "args": {"ms": 5}}]\n```'), [{ name: 'wait', arguments: { ms: 5 } }]);
  assert.deepEqual(parseTextToolCalls('TOOL_CALL: servo_move(actuator="arm", angle=45)'), [{ name: 'servo_move', arguments: { actuator: 'arm', angle: 45 } }]);
  assert.deepEqual(parseTextToolCalls('I think {braces} are nice'), []);
  const r = await robot();
  try {
    server.script(
      { content: '{"name": "search_tools", "arguments": {"query": "led"}}' },
      { content: 'TOOL_CALL: digital_write(actuator="led", value=true)' },
      { content: 'The light is on.' },
    );
    const res = await r.os.execute('light the status lamp', { allowLlm: true });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.deepEqual(r.writes().map((w) => [w.actuator, w.value]), [['led', true]]);
  } finally {
    await r.cleanup();
  }
});

test('ORCHESTRATOR by the model: a goal the wording does not split is split, and each part runs as FOLLOWER', async () => {
  const r = await robot({}, true);
  try {
    server.script({ content: JSON.stringify({ steps: ['wave hello', 'beep'] }) });
    // "X and Y" with two commands is split without the model (issue 19); "while" is not.
    const res = await r.os.execute('wave hello while beeping', { allowLlm: true });
    assert.equal(res.mode, 'ORCHESTRATOR');
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.deepEqual(res.parts?.map((p) => p.mode), ['FOLLOWER', 'FOLLOWER']);
    assert.equal(res.llm_calls, 1);
  } finally {
    await r.cleanup();
  }
});

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
  const bad = await run(['--max-llm-calls', 'many', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /\/budget\/llm_calls_per_goal: must be integer/);
  const help = await run(['--help']);
  assert.match(help.out, /--ollama-host URL/);
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

test('an e-stop pressed after the model\'s last call: the run fails and nothing is learned', async () => {
  const r = await robot();
  try {
    server.script(NOD[0]!, NOD[1]!, NOD[2]!, () => {
      // The operator hits the button (the gate directly, as the GPIO button does) while the
      // model writes its final answer.
      void r.os.gate.engageEstop('button pressed', 'button');
      return { content: 'The arm nodded.' };
    });
    const res = await r.os.execute('nod the arm', { allowLlm: true });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_ESTOP_ENGAGED');
    assert.equal(res.learned, undefined);
    assert.notEqual(r.os.decide('nod the arm').mode, 'FOLLOWER', 'no trace was saved');
  } finally {
    r.os.releaseEstop('test');
    await r.cleanup();
  }
});

test('learning never replaces an existing trace of the same goal', async () => {
  const r = await robot({}, true);
  try {
    const before = readFileSync(join(r.dir, 'traces', 'beep.yaml'), 'utf8');
    const { goalSignature } = await import('../runtime/matcher/analyze.js');
    await assert.rejects(r.os.traces.save({ goal_signature: goalSignature('beep'), goal_text: 'beep', success_rate: 1, usage_count: 1, tool_calls: [{ name: 'wait', args: { ms: 1 } }] }), (e: unknown) => (e as { code?: string }).code === 'ERR_TRACE_CONFLICT');
    assert.equal(readFileSync(join(r.dir, 'traces', 'beep.yaml'), 'utf8'), before);
  } finally {
    await r.cleanup();
  }
});

test('the wall-time budget ends a tool call in progress, not only the next request (real time)', async () => {
  reset();
  const r = await simRobot({
    shippedTraces: false, realTime: true,
    overrides: { budget: { wall_ms_per_goal: 400 }, ollama: { host: url, timeout_ms: 2000 }, paths: { agents: join(tempDir(), 'agents') } },
  });
  try {
    server.script(
      { tool_calls: [call('search_tools', { query: 'wait' })] },
      { tool_calls: [call('wait', { ms: 5000 })] },
      { content: 'Waited.' },
    );
    const res = await r.os.execute('hold still for some time', { allowLlm: true });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_BUDGET_EXCEEDED', JSON.stringify(res.error));
    const wait = res.steps.find((s) => s.tool === 'wait');
    assert.ok(wait && !wait.ok, 'the wait was cut short');
  } finally {
    await r.cleanup();
  }
});

test('the hourly LLM budget is shared by processes through its ledger file, and forgets after an hour', async () => {
  const { HourlyLedger } = await import('../runtime/ollama/budget.js');
  const { VirtualClock } = await import('../lib/clock.js');
  const file = join(tempDir(), 'llm-ledger.json');
  const clock = new VirtualClock({ wallOrigin: new Date('2026-12-01T10:00:00Z') });
  new HourlyLedger(clock, file).add(3, 1200);
  const second = new HourlyLedger(clock, file);
  assert.deepEqual(second.totals(), { calls: 3, tokens: 1200 }, 'a new process sees the first one\'s use');
  second.add(1, 100);
  await clock.advance(3600_001);
  assert.deepEqual(new HourlyLedger(clock, file).totals(), { calls: 0, tokens: 0 });
});
