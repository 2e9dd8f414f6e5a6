import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { VirtualClock } from '../lib/clock.js';
import { loadConfig, type SentienceConfig } from '../runtime/config.js';
import { DEFAULT_DELTAS, Sentience, type SentienceTrigger } from '../runtime/sentience/sentience.js';
import { simRobot, tempDir } from './helpers.js';

const base = (): SentienceConfig => structuredClone(loadConfig({ cwd: tempDir() }).sentience) as SentienceConfig;

function make(overrides: Partial<SentienceConfig> = {}, file?: string): { s: Sentience; clock: VirtualClock } {
  const clock = new VirtualClock();
  const s = new Sentience({ config: { ...base(), ...overrides }, clock, ...(file ? { file } : {}) });
  return { s, clock };
}

test('defaults: values 0.5/0.0/0.8/0.3, set-points 0.5/0.0/0.7/0.3, mode BALANCED', () => {
  const { s } = make();
  const snap = s.snapshot();
  assert.deepEqual(snap.values, { safety: 0.5, curiosity: 0, energy: 0.8, confidence: 0.3 });
  assert.deepEqual(snap.set_points, { safety: 0.5, curiosity: 0, energy: 0.7, confidence: 0.3 });
  assert.equal(snap.mode, 'BALANCED');
});

test('homeostasis depends on elapsed time, not on how often the state is updated', async () => {
  const a = make({ half_life_ms: 1000 });
  const b = make({ half_life_ms: 1000 });
  for (const x of [a, b]) x.s.set('curiosity', -0.8, 'test');
  for (let i = 0; i < 100; i++) { await a.clock.advance(10); a.s.tick(); a.s.snapshot(); }
  await b.clock.advance(1000);
  assert.equal(a.s.snapshot().values.curiosity, b.s.snapshot().values.curiosity);
  assert.equal(b.s.snapshot().values.curiosity, -0.4, 'one half-life halves the distance to the set-point');
  await b.clock.advance(1000);
  assert.equal(b.s.snapshot().values.curiosity, -0.2);
  await b.clock.advance(60000);
  assert.equal(b.s.snapshot().values.curiosity, 0, 'returns to the set-point');
});

test('every trigger moves the variables the seed\'s table says, by configurable deltas', () => {
  const expectations: Record<SentienceTrigger, Record<string, number>> = {
    task_success: { confidence: +1, energy: -1 },
    task_failure: { confidence: -1, safety: -1, energy: -1 },
    repetition: { curiosity: -1 },
    novel_task: { curiosity: +1, confidence: -1 },
    high_cost: { energy: -1 },
    safety_rejection: { safety: -1 },
    estop: { safety: -1 },
    operator_feedback: { confidence: +1, safety: +1 },
  };
  for (const [trigger, dirs] of Object.entries(expectations) as Array<[SentienceTrigger, Record<string, number>]>) {
    const { s } = make();
    const before = s.snapshot().values;
    const after = s.trigger(trigger).values;
    for (const v of ['safety', 'curiosity', 'energy', 'confidence'] as const) {
      const d = Math.sign(Math.round((after[v] - before[v]) * 1000));
      assert.equal(d, dirs[v] ?? 0, `${trigger}: ${v} ${before[v]} -> ${after[v]}`);
    }
  }
  const { s } = make({ deltas: { repetition: { curiosity: -0.5 } } });
  assert.equal(s.trigger('repetition').values.curiosity, -0.5, 'deltas are configurable');
  assert.equal(make().s.trigger('operator_feedback', -1).values.confidence, 0.2, 'negative feedback scales the delta');
  assert.ok(DEFAULT_DELTAS.task_success.energy !== undefined && Math.abs(DEFAULT_DELTAS.task_success.energy) < 0.05, 'success costs a little energy');
});

test('every mode transition, in priority order, with configurable thresholds', () => {
  const { s } = make();
  const modes: string[] = [];
  s.events.on('mode', (m) => modes.push(`${m.from}->${m.to}`));
  s.set('safety', -0.1, 't'); assert.equal(s.mode(), 'CAUTIOUS');
  s.set('safety', -0.6, 't'); assert.equal(s.mode(), 'RECOVERY');
  s.set('safety', 0.5, 't'); assert.equal(s.mode(), 'BALANCED');
  s.set('energy', -0.6, 't'); assert.equal(s.mode(), 'RECOVERY');
  s.set('energy', 0.8, 't');
  s.set('curiosity', 0.4, 't'); assert.equal(s.mode(), 'AUTO_CREATIVE', 'curiosity > 0.3 and confidence > 0.1');
  s.set('confidence', 0.05, 't'); assert.equal(s.mode(), 'BALANCED');
  s.set('curiosity', -0.4, 't'); assert.equal(s.mode(), 'AUTO_CONTAINED');
  s.set('curiosity', 0, 't'); s.set('confidence', -0.3, 't'); assert.equal(s.mode(), 'AUTO_CONTAINED');
  s.set('safety', -0.2, 't'); assert.equal(s.mode(), 'CAUTIOUS', 'CAUTIOUS outranks AUTO_CONTAINED');
  assert.deepEqual(modes, ['BALANCED->CAUTIOUS', 'CAUTIOUS->RECOVERY', 'RECOVERY->BALANCED', 'BALANCED->RECOVERY', 'RECOVERY->BALANCED', 'BALANCED->AUTO_CREATIVE', 'AUTO_CREATIVE->BALANCED', 'BALANCED->AUTO_CONTAINED', 'AUTO_CONTAINED->BALANCED', 'BALANCED->AUTO_CONTAINED', 'AUTO_CONTAINED->CAUTIOUS']);
  const strict = make({ thresholds: { cautious_safety: 0.6 } }).s;
  assert.equal(strict.mode(), 'CAUTIOUS', 'thresholds are configurable');
});

test('the state persists atomically in state/sentience.json and is reloaded, aged by the time away', async () => {
  const dir = tempDir();
  const file = join(dir, 'sentience.json');
  const a = make({ half_life_ms: 60000 }, file);
  a.s.set('curiosity', 0.8, 'test');
  await a.s.flush();
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { values: { curiosity: number }; at: string };
  assert.equal(saved.values.curiosity, 0.8);
  saved.at = new Date(Date.parse('2026-01-01T00:00:00Z') - 60000).toISOString(); // saved one half-life before the new clock's start
  writeFileSync(file, JSON.stringify(saved));
  const b = make({ half_life_ms: 60000 }, file);
  assert.equal(b.s.load(), true);
  assert.equal(b.s.snapshot().values.curiosity, 0.4);
  writeFileSync(file, '{ not json');
  assert.equal(make({}, file).s.load(), false, 'a damaged file is ignored, defaults apply');
});

test('CAUTIOUS end to end: after repeated safety rejections the same goal runs slower, and ad-hoc motion waits for confirmation', async () => {
  const r = await simRobot();
  try {
    const peak = (from: number): number => Math.max(...r.writes().slice(from).filter((w) => w.actuator === 'base').map((w) => Math.abs(w.value as number)));
    const before = await r.os.execute('drive forward 1 meter');
    assert.equal(before.sentience?.['mode'], 'BALANCED');
    const fast = peak(0);
    const mark = r.writes().length;
    for (let i = 0; i < 4; i++) {
      await assert.rejects(r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 200 } }, { source: 'api', runId: `bad-${i}` }), /ERR_SAFETY_RANGE|outside/);
    }
    assert.equal(r.os.sentience?.mode(), 'CAUTIOUS');
    const after = await r.os.execute('drive forward 1 meter');
    assert.equal(after.ok, true);
    assert.equal(after.sentience?.['mode'], 'CAUTIOUS');
    const slow = peak(mark);
    assert.ok(Math.abs(slow - fast * 0.5) < 0.01, `peak wheel speed ${fast} -> ${slow}`);
    assert.ok(after.duration_ms > before.duration_ms * 1.5, `slower: ${before.duration_ms} -> ${after.duration_ms} ms`);
    // Not a replay of learned behaviour: the motion asks first, and a refusal moves nothing.
    const asked: string[] = [];
    r.os.gate.confirmations.events.on('request', (q) => { asked.push(q.reason); r.os.gate.confirmations.answer(q.id, false); });
    const n = r.writes().length;
    await assert.rejects(r.os.gate.call({ name: 'motor_set', args: { actuator: 'winch', speed: 0.5, duration_ms: 100 } }, { source: 'mqtt', runId: 'adhoc' }), /ERR_CONFIRM_DENIED|confirmation/);
    assert.match(asked[0] ?? '', /CAUTIOUS mode/);
    assert.equal(r.writes().length, n);
  } finally {
    await r.cleanup();
  }
});

test('RECOVERY forbids LLM calls unless the request allows them; AUTO_CONTAINED serves only learned patterns; AUTO_CREATIVE allows suggestions', async () => {
  const r = await simRobot();
  try {
    const s = r.os.sentience;
    assert.ok(s);
    s.set('energy', -0.8, 'test');
    const novel = r.os.decide('juggle three balls', { allowLlm: true });
    assert.equal(novel.mode, 'REFUSED');
    assert.match(novel.error?.message ?? '', /RECOVERY mode/);
    assert.equal(r.os.decide('juggle three balls', { allowLlm: true, allowLlmInRecovery: true }).mode, 'LEARNER');
    assert.equal(r.os.decide('drive forward 2 meters', { allowLlm: true }).mode, 'FOLLOWER', 'learned patterns still run');
    s.set('energy', 0.8, 'test');
    s.set('curiosity', -0.5, 'test');
    assert.equal(r.os.decide('juggle three balls', { allowLlm: true }).mode, 'REFUSED', 'AUTO_CONTAINED: no LEARNER');
    assert.equal(r.os.decide('drive forward', { allowLlm: true }).mode, 'REFUSED', 'AUTO_CONTAINED: no MIXED');
    s.set('curiosity', 0.5, 'test');
    s.set('confidence', 0.5, 'test');
    assert.equal(r.os.allowsSuggestions(), true);
    assert.equal(r.os.decide('juggle three balls', { allowLlm: true }).mode, 'LEARNER');
  } finally {
    await r.cleanup();
  }
});

test('run outcomes feed the state; the battery sensor drives energy; disabled sentience changes nothing', async () => {
  const r = await simRobot();
  try {
    const a = await r.os.execute('beep');
    const b = await r.os.execute('beep');
    const c = await r.os.execute('fly to the moon');
    const v = (x: typeof a): Record<string, number> => (x.sentience?.['values'] ?? {}) as Record<string, number>;
    assert.ok((v(b)['curiosity'] ?? 0) < (v(a)['curiosity'] ?? 0), 'repetition lowers curiosity');
    assert.ok((v(c)['curiosity'] ?? 0) > (v(b)['curiosity'] ?? 0), 'a novel goal raises it');
    assert.ok((v(b)['confidence'] ?? 0) > 0.3, 'success raises confidence');
    assert.equal(v(a)['energy'], 0.9, 'energy follows the sim battery (0.95 charge)');
    await r.os.shutdown();
    assert.ok(existsSync(join(r.dir, 'state', 'sentience.json')));
  } finally {
    await r.cleanup();
  }
  const off = await simRobot({ overrides: { sentience: { enabled: false } } });
  try {
    const res = await off.os.execute('beep');
    assert.equal(res.sentience, undefined);
    assert.equal(off.os.sentience, undefined);
    for (let i = 0; i < 4; i++) await off.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 200 } }, { source: 'api', runId: 'x' }).catch(() => undefined);
    assert.equal(off.os.gate.speedScale, 1);
  } finally {
    await off.cleanup();
  }
});

test('a damaged state file is set aside and reported, values are clamped on load, and a battery alone drives energy', async () => {
  const { Sentience } = await import('../runtime/sentience/sentience.js');
  const { VirtualClock } = await import('../lib/clock.js');
  const { loadConfig } = await import('../runtime/config.js');
  const { existsSync, readdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tempDir } = await import('./helpers.js');
  const dir = tempDir();
  const file = join(dir, 'sentience.json');
  const config = loadConfig({ overrides: {} }).sentience;
  writeFileSync(file, '{"version": 1, "values": {"safety": ');
  const messages: string[] = [];
  const s = new Sentience({ config, clock: new VirtualClock(), file });
  assert.equal(s.load((m) => messages.push(m)), false);
  assert.match(messages[0] ?? '', /not readable JSON.*kept as .*damaged-/);
  assert.equal(existsSync(file), false);
  assert.equal(readdirSync(dir).filter((f) => f.includes('.damaged-')).length, 1, 'the evidence is kept');
  writeFileSync(file, JSON.stringify({ version: 1, at: new Date().toISOString(), values: { safety: 7, curiosity: -9, energy: 0.5, confidence: 0 } }));
  const t = new Sentience({ config, clock: new VirtualClock(), file });
  assert.equal(t.load(), true);
  assert.deepEqual([t.current().safety, t.current().curiosity], [1, -1], 'clamped to [-1, 1]');
  t.measure('energy');
  t.set('energy', 0.2, 'battery');
  t.trigger('task_failure');
  t.trigger('high_cost', 3);
  assert.equal(t.current().energy, 0.2, 'the cost model no longer moves a measured energy');
});
