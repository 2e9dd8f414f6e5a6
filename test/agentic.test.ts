/**
 * The agentic follower against the real ollama-js client and a local server that speaks Ollama's
 * wire format with scripted replies: learning, MIXED, the model's split, and what is never learned.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { call } from './ollama-server.js';
import { useOllama, server, robot, NOD } from './agentic-harness.js';

useOllama();

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
