/**
 * The agentic follower when the model or its server misbehaves: malformed answers, calls out of
 * bounds, loops, hangs, no server, tool calls written as text, and the wall-time and hourly budgets.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseTextToolCalls } from '../runtime/ollama/text-tool-calls.js';
import { simRobot, tempDir } from './helpers.js';
import { call } from './ollama-server.js';
import { useOllama, server, url, reset, robot } from './agentic-harness.js';

useOllama();

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

test('a question handed to the model may read, never move: an actuation call is refused at the gate and nothing is learned', async () => {
  const r = await robot();
  try {
    server.script(
      { tool_calls: [call('search_tools', { query: 'gripper arm distance' })] },
      { tool_calls: [call('sensor_read', { sensor: 'distance' }), call('servo_move', { actuator: 'arm', angle: 120 })] },
      { content: 'The gripper is open.' },
    );
    const res = await r.os.execute('is the gripper open?', { allowLlm: true });
    assert.equal(res.mode, 'LEARNER');
    assert.equal(res.steps[1]?.ok, true, 'reading a sensor is how a question is answered');
    assert.equal(res.steps[2]?.error?.code, 'ERR_NOT_A_COMMAND');
    assert.match(res.steps[2]?.error?.message ?? '', /servo_move refused: "is the gripper open\?" is a question/);
    assert.ok(r.writes().every((w) => w.actuator !== 'arm'), 'the arm never moved');
    assert.equal(res.learned, undefined);
    assert.equal(r.os.traces.size, 0);
    // The restriction ends with the question: the next command moves as usual.
    server.script({ tool_calls: [call('search_tools', { query: 'arm' })] }, { tool_calls: [call('servo_move', { actuator: 'arm', angle: 120 })] }, { content: 'Done.' });
    const raise = await r.os.execute('lift the arm up to 120 degrees', { allowLlm: true });
    assert.equal(raise.ok, true, JSON.stringify(raise.error));
    assert.ok(r.writes().some((w) => w.actuator === 'arm' && w.value === 120));
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
