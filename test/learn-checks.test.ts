/**
 * Issue 17, item 3: learning checks a run before saving it. Scripted model answers through the
 * real ollama-js client (test/ollama-server.ts); a property test of random learned runs against
 * the consistency rules.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { ConfigInput } from '../runtime/config.js';
import { checkLearnedRun, criticalWordConflict, DEFAULT_LEARNING, isProvisional } from '../runtime/traces/learn-checks.js';
import { traceFromRun } from '../runtime/traces/learn.js';
import { TOOL_UNITS } from '../safety/tools/index.js';
import type { ToolCall } from '../safety/gate.js';
import { simRobot, simWorldFile, tempDir, type SimRobot } from './helpers.js';
import { call, FakeOllama } from './ollama-server.js';

let server: FakeOllama;
let url = '';
before(async () => { server = new FakeOllama(); url = await server.start(); });
after(async () => { await server.close(); });

async function robot(overrides: ConfigInput = {}): Promise<SimRobot> {
  server.requests.length = 0;
  (server as unknown as { queue: unknown[] }).queue.length = 0;
  return simRobot({ shippedTraces: false, overrides: { ...overrides, ollama: { host: url, timeout_ms: 2000 }, paths: { agents: join(tempDir(), 'agents') } } });
}

/** The model's first answer: it asks for the tools it needs. */
const S = (query: string): { tool_calls: ReturnType<typeof call>[] } => ({ tool_calls: [call('search_tools', { query })] });

const traceFiles = (r: SimRobot): string[] => readdirSync(join(r.dir, 'traces'));

test('"drive forward 1 meter" answered with distance_m -4 is not learned: reported by event and log, never replayed', async () => {
  const r = await robot();
  try {
    const rejected: Array<{ goal: string; reason: string }> = [];
    r.os.events.on('learn_rejected', (e) => rejected.push(e));
    server.script(S('drive'), { tool_calls: [call('drive', { distance_m: -4 })] }, { content: 'Done.' });
    const res = await r.os.execute('drive forward 1 meter', { allowLlm: true });
    assert.equal(res.ok, true, 'the run itself went through the gate');
    assert.equal(res.learned, undefined);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]?.reason ?? '', /forward.*distance_m -4/);
    assert.deepEqual(traceFiles(r), []);
    assert.equal(r.os.decide('drive forward 1 meter').mode, 'REFUSED', 'nothing to replay with 0 LLM calls');
  } finally {
    await r.cleanup();
  }
});

test('a number that counts things ("three oranges") is not a parameter; the trace is saved with literals', async () => {
  // A long room: the 3 m drive from the centre of the default 5 m room would meet the wall's reflex.
  const r = await robot({ sim: { world: simWorldFile({ room: { width_m: 20, depth_m: 5 } }) } });
  try {
    server.script(S('drive'), { tool_calls: [call('drive', { distance_m: 3 })] }, { content: 'Done.' });
    const res = await r.os.execute('juggle three oranges', { allowLlm: true });
    assert.ok(res.learned);
    const t = r.os.traces.get(res.learned)?.trace;
    assert.deepEqual(Object.values(t?.parameters ?? {}).map((p) => [p.minimum, p.maximum]), [[3, 3]], 'the goal\'s number is pinned, no argument takes it');
    assert.deepEqual(t?.tool_calls[0]?.args, { distance_m: 3 });
    // Whether "five oranges" replays at all is the matcher's call; it never drives 5 m.
    const d = r.os.decide('juggle five oranges');
    assert.ok(!(d.calls ?? []).some((c) => c.args['distance_m'] === 5), JSON.stringify(d.calls));
  } finally {
    await r.cleanup();
  }
});

test('caps: too many steps, too long, or nothing but waiting is not learned', async () => {
  const r = await robot({ learning: { max_steps: 5, max_duration_ms: 3000 } });
  try {
    const reasons: string[] = [];
    r.os.events.on('learn_rejected', (e) => reasons.push(e.reason));
    server.script(S('light led digital'), { tool_calls: Array.from({ length: 6 }, () => call('digital_write', { actuator: 'led', value: true })) }, { content: 'Done.' });
    assert.equal((await r.os.execute('switch the light on', { allowLlm: true })).learned, undefined);
    server.script(S('light led digital wait'), { tool_calls: [call('digital_write', { actuator: 'led', value: true }), call('wait', { ms: 4000 })] }, { content: 'Done.' });
    assert.equal((await r.os.execute('light the lamp', { allowLlm: true })).learned, undefined);
    server.script(S('wait'), { tool_calls: [call('wait', { ms: 10 })] }, { content: 'Done.' });
    assert.equal((await r.os.execute('do a little dance', { allowLlm: true })).learned, undefined);
    assert.equal(reasons.length, 3);
    assert.match(reasons[0] ?? '', /6 steps, over learning\.max_steps \(5\)/);
    assert.match(reasons[1] ?? '', /over learning\.max_duration_ms \(3000\)/);
    assert.match(reasons[2] ?? '', /did nothing/);
    assert.deepEqual(traceFiles(r), []);
  } finally {
    await r.cleanup();
  }
});

test('learned parameters get bounds from the range and the critical word; promote_after keeps a new trace in MIXED', async () => {
  const r = await robot({ learning: { promote_after: 1 } });
  try {
    server.script(S('arm servo'), { tool_calls: [call('servo_move', { actuator: 'arm', angle: 120 })] }, { content: 'Done.' });
    const first = await r.os.execute('set the arm to 120', { allowLlm: true });
    const t = r.os.traces.get(first.learned as string)?.trace;
    assert.deepEqual([t?.parameters?.['angle']?.minimum, t?.parameters?.['angle']?.maximum], [0, 180], 'the arm\'s declared range');
    assert.equal(isProvisional(t!), true);
    assert.equal(r.os.decide('set the arm to 100').mode, 'REFUSED', 'not replayed blind while provisional');
    server.script({ content: JSON.stringify({ tool_calls: [{ name: 'servo_move', args: { actuator: 'arm', angle: 100 } }] }) });
    const second = await r.os.execute('set the arm to 100', { allowLlm: true });
    assert.equal(second.mode, 'MIXED');
    assert.equal(second.ok, true, JSON.stringify(second.error));
    assert.equal(r.os.decide('set the arm to 90').mode, 'FOLLOWER', 'promoted after its first confirmed use');
  } finally {
    await r.cleanup();
  }
});

test('property: a learned run that is saved agrees with its goal\'s critical words and every parameter is bounded', async () => {
  const r = await simRobot({ shippedTraces: false });
  try {
    const env = { profile: r.os.gate.profile, catalog: r.os.gate.catalog, config: DEFAULT_LEARNING };
    const unitsFor = (tool: string, arg: string) => r.os.gate.catalog.get(tool)?.units[arg] ?? TOOL_UNITS[tool]?.[arg];
    const direction = fc.constantFrom('forward', 'backward', 'left', 'right', 'open', 'close', '');
    const stepArb: fc.Arbitrary<ToolCall> = fc.oneof(
      fc.double({ min: -12, max: 12, noNaN: true }).map((d) => ({ name: 'drive', args: { distance_m: Math.round(d * 10) / 10 } })),
      fc.integer({ min: -400, max: 400 }).map((d) => ({ name: 'turn', args: { degrees: d } })),
      fc.integer({ min: 0, max: 80 }).map((a) => ({ name: 'servo_move', args: { actuator: 'gripper', angle: a } })),
      fc.integer({ min: 0, max: 5000 }).map((ms) => ({ name: 'wait', args: { ms } })),
    );
    fc.assert(fc.property(direction, fc.integer({ min: 1, max: 9 }), fc.constantFrom('meters', 'degrees', '', 'oranges'), fc.array(stepArb, { minLength: 0, maxLength: 8 }),
      (dir, n, unit, calls) => {
        const verb = dir === 'open' || dir === 'close' ? `${dir} the gripper` : dir === 'left' || dir === 'right' ? `turn ${dir}` : `drive ${dir}`;
        const goal = `${verb} ${n} ${unit}`.trim();
        const draft = traceFromRun(goal, calls, unitsFor, { model: 'm', mode: 'LEARNER', llmCalls: 1, at: new Date(0) });
        const v = checkLearnedRun(goal, calls, [], draft, env);
        if (!v.ok) return;
        assert.ok(calls.length <= env.config.max_steps && calls.some((c) => c.name !== 'wait'));
        assert.equal(criticalWordConflict(goal, calls, env.profile), undefined);
        for (const c of calls) {
          if (dir === 'forward' && c.name === 'drive') assert.ok((c.args['distance_m'] as number) >= 0, goal);
          if (dir === 'backward' && c.name === 'drive') assert.ok((c.args['distance_m'] as number) <= 0, goal);
          if (dir === 'left' && c.name === 'turn') assert.ok((c.args['degrees'] as number) >= 0, goal);
          if (dir === 'right' && c.name === 'turn') assert.ok((c.args['degrees'] as number) <= 0, goal);
          if (dir === 'open' && c.name === 'servo_move') assert.ok((c.args['angle'] as number) <= 40, goal);
          if (dir === 'close' && c.name === 'servo_move') assert.ok((c.args['angle'] as number) >= 40, goal);
        }
        for (const [name, p] of Object.entries(v.trace.parameters ?? {})) {
          assert.ok(Number.isFinite(p.minimum) && Number.isFinite(p.maximum), `${goal}: ${name} bounded`);
          if (dir === 'forward' && v.trace.tool_calls.some((s) => s.name === 'drive' && s.args['distance_m'] === `{{${name}}}`)) assert.ok((p.minimum as number) >= 0);
        }
      }), { numRuns: 500 });
  } finally {
    await r.cleanup();
  }
});
