import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeGoal, goalSignature } from '../runtime/matcher/analyze.js';
import { Matcher } from '../runtime/matcher/matcher.js';
import { instantiate } from '../runtime/matcher/params.js';
import type { TraceRecord, TraceStep } from '../runtime/traces/types.js';
import type { ArgUnit } from '../safety/tools/index.js';

const UNITS: Record<string, Record<string, ArgUnit>> = {
  drive: { distance_m: { kind: 'length', fromSi: 1 } },
  turn: { degrees: { kind: 'angle', fromSi: 1 } },
  servo_move: { angle: { kind: 'angle', fromSi: 1 } },
  wait: { ms: { kind: 'time', fromSi: 1000 } },
  pwm_write: { duty: { kind: 'fraction', fromSi: 1 } },
};

function rec(goal: string, calls: TraceStep[], extra: Partial<TraceRecord['trace']> = {}): TraceRecord {
  return { file: goal, format: 'core', trace: { goal_signature: goalSignature(goal), goal_text: goal, success_rate: 1, usage_count: 1, tool_calls: calls, ...extra } };
}

function matcherWith(records: TraceRecord[]): Matcher {
  const m = new Matcher({ unitsFor: (t, a) => UNITS[t]?.[a] });
  m.load(records);
  return m;
}

const calc = rec('Create a Python calculator', [{ name: 'Write', args: { file_path: 'calc.py', content: '' } }, { name: 'Bash', args: { command: 'python3 calc.py' } }]);

test('the seed\'s paraphrases match above the FOLLOWER threshold', () => {
  const m = matcherWith([calc, rec('read the distance sensor', [{ name: 'sensor_read', args: { sensor: 'distance' } }])]);
  for (const g of ['Create a Python calculator', 'Build a calculator in Python', 'Make a calc tool using python']) {
    const best = m.match(g).candidates[0];
    assert.equal(best?.trace.goal_text, 'Create a Python calculator', g);
    assert.ok((best?.score ?? 0) > 0.92, `${g}: ${best?.score}`);
  }
});

test('numbers bind as parameters with unit conversion and sign: 2.5 m, 50 cm, clockwise', () => {
  const m = matcherWith([
    rec('drive forward 1 meter', [{ name: 'drive', args: { distance_m: 1 } }]),
    rec('turn right 90 degrees', [{ name: 'turn', args: { degrees: -90 } }]),
    rec('wait 2 seconds', [{ name: 'wait', args: { ms: 2000 } }]),
    rec('set the buzzer to 30 percent', [{ name: 'pwm_write', args: { actuator: 'buzzer', duty: 0.3 } }]),
  ]);
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['drive forward 2.5 meters', 'drive', { distance_m: 2.5 }],
    ['drive forward 50 cm', 'drive', { distance_m: 0.5 }],
    ['go ahead two and a half metres', 'drive', { distance_m: 2.5 }],
    ['turn right 30 degrees', 'turn', { degrees: -30 }],
    ['rotate clockwise 45°', 'turn', { degrees: -45 }],
    ['wait 500 ms', 'wait', { ms: 500 }],
    ['pause for one minute', 'wait', { ms: 60000 }],
    ['set the buzzer to 75%', 'pwm_write', { duty: 0.75 }],
  ];
  for (const [goal, tool, args] of cases) {
    const best = m.match(goal).candidates[0];
    assert.ok(best && best.score > 0.92 && best.reasons.length === 0, `${goal}: ${best?.score} ${best?.reasons.join('; ')}`);
    const [call] = instantiate(best.trace, best.model.slots, best.params);
    assert.equal(call?.name, tool);
    for (const [k, v] of Object.entries(args)) assert.equal(call?.args[k], v, `${goal}: ${k}`);
  }
});

test('critical words and negations never pair (score below the MIXED threshold)', () => {
  const m = matcherWith([
    rec('turn left 90 degrees', [{ name: 'turn', args: { degrees: 90 } }]),
    rec('open the gripper', [{ name: 'servo_move', args: { actuator: 'gripper', angle: 0 } }]),
    rec('raise the arm', [{ name: 'servo_move', args: { actuator: 'arm', angle: 150 } }]),
    rec('drive forward 1 meter', [{ name: 'drive', args: { distance_m: 1 } }]),
    rec('turn on the led', [{ name: 'digital_write', args: { actuator: 'led', value: true } }]),
    rec('start the winch', [{ name: 'motor_set', args: { actuator: 'winch', speed: 0.5 } }]),
  ]);
  const pairs: Array<[string, string]> = [
    ['turn right 90 degrees', 'turn left 90 degrees'], ['rotate clockwise 90 degrees', 'turn left 90 degrees'],
    ['close the gripper', 'open the gripper'], ['grab the ball', 'open the gripper'], ['do not open the gripper', 'open the gripper'],
    ['lower the arm', 'raise the arm'], ['move the arm down', 'raise the arm'],
    ['drive backward 1 meter', 'drive forward 1 meter'], ['reverse 1 meter', 'drive forward 1 meter'],
    ['turn off the led', 'turn on the led'], ['stop the winch', 'start the winch'], ["don't start the winch", 'start the winch'],
  ];
  for (const [goal, forbidden] of pairs) {
    const c = m.match(goal, 10).candidates.find((x) => x.trace.goal_text === forbidden);
    assert.ok(!c || c.score < 0.75, `${goal} vs ${forbidden}: ${c?.score}`);
  }
});

test('a number that is not a parameter is literal: a different count never replays', () => {
  const blink = rec('blink the led 3 times', Array.from({ length: 6 }, (_, i) => ({ name: 'digital_write', args: { actuator: 'led', value: i % 2 === 0 } })));
  const m = matcherWith([blink]);
  assert.ok((m.match('flash the light three times').candidates[0]?.score ?? 0) > 0.92);
  for (const g of ['blink the led 5 times', 'blink the led twice', 'blink the led']) {
    const c = m.match(g).candidates[0];
    assert.ok(c && c.score <= 0.92 && c.reasons.length > 0, `${g}: ${c?.score}`);
  }
});

test('declared parameters: templates, defaults and declared bounds', () => {
  const t = rec('drive forward 1 meter', [{ name: 'drive', args: { distance_m: '{{distance}}', speed: 0.5 } }], {
    parameters: { distance: { kind: 'length', unit: 'm', minimum: 0, maximum: 3 } },
  });
  const w = rec('wait', [{ name: 'wait', args: { ms: '{{seconds*1000}}' } }], { parameters: { seconds: { kind: 'time', unit: 's', default: 1 } } });
  const m = matcherWith([t, w]);
  const best = m.match('drive forward 2 m').candidates[0];
  assert.deepEqual(best?.params, { distance: 2 });
  assert.deepEqual(instantiate(t.trace, best?.model.slots ?? new Map(), { distance: 2 })[0]?.args, { distance_m: 2, speed: 0.5 });
  const tooFar = m.match('drive forward 7 meters').candidates[0];
  assert.ok(tooFar && tooFar.reasons.some((r) => /above its maximum 3/.test(r)) && tooFar.score <= 0.92);
  const def = m.match('wait').candidates[0];
  assert.deepEqual(def?.params, { seconds: 1 });
  assert.equal(instantiate(w.trace, def?.model.slots ?? new Map(), def?.params ?? {})[0]?.args['ms'], 1000);
});

test('matching is deterministic and the score is in [0, 1]', () => {
  const m = matcherWith([calc, rec('drive forward 1 meter', [{ name: 'drive', args: { distance_m: 1 } }])]);
  const a = JSON.stringify(m.match('drive forward 3 meters').candidates.map((c) => [c.trace.goal_signature, c.score, c.params]));
  const b = JSON.stringify(m.match('drive forward 3 meters').candidates.map((c) => [c.trace.goal_signature, c.score, c.params]));
  assert.equal(a, b);
  for (const g of ['', 'xyzzy', 'drive', '!!!', 'turn turn turn left left']) {
    for (const c of m.match(g).candidates) assert.ok(c.score >= 0 && c.score <= 1, `${g}: ${c.score}`);
  }
});

test('word numbers, units and idioms are read as quantities', () => {
  const q = (g: string): Array<[number, string]> => analyzeGoal(g).quantities.map((x) => [Math.round(x.base * 1000) / 1000, x.kind]);
  assert.deepEqual(q('twenty five degrees'), [[25, 'angle']]);
  assert.deepEqual(q('half a meter'), [[0.5, 'length']]);
  assert.deepEqual(q('go 1,500 mm'), [[1.5, 'length']]);
  assert.deepEqual(q('turn -90°'), [[-90, 'angle']]);
  assert.deepEqual(q('beep twice'), [[2, 'count']]);
  assert.deepEqual(q('wait a second'), [[1, 'time']]);
  assert.deepEqual(q('turn around'), [[180, 'angle']]);
  assert.deepEqual(q('1.5m'), [[1.5, 'length']]);
});

test('serialised models give the same matches as freshly built ones', () => {
  const records = [calc, rec('drive forward 1 meter', [{ name: 'drive', args: { distance_m: 1 } }]), rec('turn around', [{ name: 'turn', args: { degrees: 180 } }])];
  const fresh = matcherWith(records);
  const restored = new Matcher({ unitsFor: (t, a) => UNITS[t]?.[a] });
  restored.load(records, (r) => JSON.parse(JSON.stringify(fresh.serialize(fresh.modelOf(r.trace.goal_signature)!))));
  for (const g of ['drive forward 2 meters', 'spin around', 'turn 90 degrees', 'build a python calculator']) {
    assert.deepEqual(restored.match(g).candidates.map((c) => [c.trace.goal_text, c.score, c.params]), fresh.match(g).candidates.map((c) => [c.trace.goal_text, c.score, c.params]), g);
  }
});
