/**
 * The matcher's second generation (issue 19): only commands replay, stop words, directions and
 * separated particles, named qualifiers, split first, typos, WordNet synonyms, honest messages,
 * and a pruning index that finds what a full scan finds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dispatcher } from '../runtime/dispatcher.js';
import { analyzeGoal, goalSignature } from '../runtime/matcher/analyze.js';
import { classifyGoal } from '../runtime/matcher/intent.js';
import { goalVector, Matcher, overlapOf } from '../runtime/matcher/matcher.js';
import { splitParts } from '../runtime/matcher/split.js';
import { SYNONYMS } from '../runtime/matcher/synonyms.generated.js';
import { editDistance } from '../runtime/matcher/typos.js';
import type { TraceRecord, TraceStep } from '../runtime/traces/types.js';
import { TOOL_UNITS } from '../safety/tools/index.js';
import { syntheticGoals, syntheticTraces } from '../scripts/bench/synthetic.js';

function rec(goal: string, calls: TraceStep[], extra: Partial<TraceRecord['trace']> = {}): TraceRecord {
  return { file: goal, format: 'core', trace: { goal_signature: goalSignature(goal), goal_text: goal, success_rate: 1, usage_count: 1, tool_calls: calls, ...extra } };
}
function dispatcher(records: TraceRecord[]): Dispatcher {
  const m = new Matcher({ unitsFor: (t, a) => TOOL_UNITS[t]?.[a] });
  m.load(records);
  return new Dispatcher(m, { followerThreshold: 0.92, mixedThreshold: 0.75 });
}
const served = (d: ReturnType<Dispatcher['decide']>): string | null => (d.mode === 'FOLLOWER' || d.mode === 'CRYSTALLIZED' ? d.candidate?.trace.goal_text ?? null : null);

const sv = (actuator: string, angle: number): TraceStep => ({ name: 'servo_move', args: { actuator, angle } });
const seconds = { seconds: { kind: 'time' as const, unit: 's', minimum: 0.1, maximum: 8 } };
const winchIn = rec('reel in the winch for 2 seconds', [{ name: 'motor_set', args: { actuator: 'winch', speed: 0.6, duration_ms: '{{seconds*1000}}' } }], { parameters: seconds });
const winchOut = rec('let out the winch for 2 seconds', [{ name: 'motor_set', args: { actuator: 'winch', speed: -0.6, duration_ms: '{{seconds*1000}}' } }], { parameters: seconds });

test('only commands: questions, statements, information requests and conditional goals are not commands; polite requests are', () => {
  const not: Array<[string, string]> = [
    ['is the gripper open?', 'question'], ['gripper open?', 'question'], ['did you close the gripper?', 'question'], ['can the arm go higher?', 'question'], ['what is the arm angle', 'question'],
    ['how do I open the gripper?', 'information request'], ['what does open the gripper do?', 'information request'], ['explain how to turn left', 'information request'],
    ['I opened the gripper', 'statement'], ['the robot drove forward 1 meter', 'statement'], ['the led was turned off', 'statement'],
    ['move forward 2 meters when I say go', 'conditional or deferred goal'], ['if the path is clear, drive forward', 'conditional or deferred goal'],
    ['drive forward until you see a wall', 'conditional or deferred goal'], ['once the gripper is open, lower the arm', 'conditional or deferred goal'],
    ['as soon as I say so, turn left', 'conditional or deferred goal'], ['after the beep, open the gripper', 'conditional or deferred goal'],
    ['unless the arm is up, raise it', 'conditional or deferred goal'], ['turn off the led in 5 minutes', 'conditional or deferred goal'],
    ['release the e-stop', 'operator command'], ['release', 'operator command'],
  ];
  for (const [goal, what] of not) {
    const c = classifyGoal(goal);
    assert.equal(c.kind, 'not_command', goal);
    assert.equal(c.kind === 'not_command' && c.what, what, goal);
  }
  for (const goal of ['could you open the gripper?', 'please open the gripper', 'can you turn around?', 'would you kindly drive forward 1 meter', 'I want you to beep',
    'beep once', 'reel in the winch for 2 seconds', 'do a u-turn', 'open the gripper', 'turn left then beep', 'wait 2 seconds then beep']) {
    assert.equal(classifyGoal(goal).kind, 'command', goal);
  }
  for (const [goal, estop] of [['stop', false], ['Halt!', false], ['could you stop?', false], ['freeze', false], ['stop moving', false], ['please stop everything now', false], ['emergency stop', true], ['E-STOP', true]] as const) {
    assert.deepEqual(classifyGoal(goal), { kind: 'stop', estop }, goal);
  }
  assert.equal(classifyGoal('stop the winch').kind, 'command', 'an object makes it a goal');
  assert.deepEqual(classifyGoal('stpo'), { kind: 'stop', estop: false }, 'a mistyped stop still stops');
  assert.equal(classifyGoal('step').kind, 'command', 'a real word is no mistyped stop');
});

test('the dispatcher refuses non-commands with ERR_NOT_A_COMMAND (the agentic follower may hand questions to the model) and never matches stop words', () => {
  const d = dispatcher([rec('open the gripper', [sv('gripper', 0)]), rec('stop the winch', [{ name: 'motor_set', args: { actuator: 'winch', speed: 0 } }]), rec('turn off the led', [{ name: 'digital_write', args: { actuator: 'led', value: false } }])]);
  const q = d.decide('is the gripper open?', { allowLlm: false });
  assert.equal(q.mode, 'REFUSED');
  assert.equal(q.error?.code, 'ERR_NOT_A_COMMAND');
  assert.match(q.error?.message ?? '', /question/);
  assert.equal(d.decide('is the gripper open?', { allowLlm: true }).mode, 'LEARNER');
  assert.equal(d.decide('open the gripper when I say go', { allowLlm: true }).mode, 'REFUSED', 'a conditional never runs now');
  assert.equal(served(d.decide('could you open the gripper?', { allowLlm: false })), 'open the gripper');
  for (const w of ['stop', 'halt', 'freeze', 'stop turning']) assert.equal(d.decide(w, { allowLlm: false }).mode, 'STOP', w);
  assert.equal(d.decide('e-stop', { allowLlm: false }).mode, 'ESTOP');
});

test('in and out carry a direction, also as separated particles; non-direction particles vanish', () => {
  const d = dispatcher([winchIn]);
  for (const g of ['winch out for 3 seconds', 'let the cable out for 2 seconds', 'reel the winch out for 2 seconds', 'pay out the winch for 2 seconds']) {
    assert.equal(served(d.decide(g, { allowLlm: false })), null, g);
  }
  for (const g of ['winch in for 3 seconds', 'reel the cable in for 2 seconds', 'wind the winch in for 2 seconds']) {
    assert.equal(served(d.decide(g, { allowLlm: false })), 'reel in the winch for 2 seconds', g);
  }
  const both = dispatcher([winchIn, winchOut]);
  assert.equal(served(both.decide('let the rope out for 3 seconds', { allowLlm: false })), 'let out the winch for 2 seconds');
  const grip = dispatcher([rec('open the gripper', [sv('gripper', 0)]), rec('lower the arm', [sv('arm', 30)]), rec('put the object down', [sv('arm', 20), sv('gripper', 0)])]);
  assert.equal(served(grip.decide('open up the gripper', { allowLlm: false })), 'open the gripper');
  assert.equal(served(grip.decide('put the object down', { allowLlm: false })), 'put the object down');
  assert.equal(served(grip.decide('put the arm down', { allowLlm: false })), 'lower the arm');
  assert.equal(served(grip.decide('lower the gripper', { allowLlm: false })), null);
});

test('named qualifiers count: a goal naming none prefers the trace without one; a tie is refused naming both', () => {
  const d = dispatcher([
    rec('turn on the led', [{ name: 'digital_write', args: { actuator: 'led', value: true } }]),
    rec('turn on the controller led', [{ name: 'serial_send', args: { actuator: 'uart', line: 'LED ON' } }]),
  ]);
  assert.equal(served(d.decide('turn the led on', { allowLlm: false })), 'turn on the led');
  assert.equal(served(d.decide('switch on the controller\'s led', { allowLlm: false })), 'turn on the controller led');
  const tie = dispatcher([
    rec('blink the light', [{ name: 'digital_write', args: { actuator: 'led', value: true } }]),
    rec('flash the lamp', [{ name: 'digital_write', args: { actuator: 'led', value: false } }]),
  ]);
  const r = tie.decide('blink the led', { allowLlm: false });
  assert.equal(r.mode, 'REFUSED');
  assert.match(r.error?.message ?? '', /ambiguous: "(blink the light|flash the lamp)" and "(blink the light|flash the lamp)"/);
});

test('split first: then, ;, "X and Y" of two commands; each part binds its own numbers; the whole goal wins only when exact', () => {
  assert.deepEqual(splitParts('open the gripper, then raise the arm; beep'), ['open the gripper', 'raise the arm', 'beep']);
  assert.deepEqual(splitParts('turn on the led and beep'), ['turn on the led', 'beep']);
  assert.deepEqual(splitParts('drive forward and back'), ['drive forward and back']);
  assert.deepEqual(splitParts('read the distance and the battery'), ['read the distance and the battery']);
  assert.deepEqual(splitParts('turn on the led, then wait 2 seconds, then turn it off'), ['turn on the led', 'wait 2 seconds', 'turn the led off']);
  const d = dispatcher([
    rec('wait 2 seconds', [{ name: 'wait', args: { ms: '{{seconds*1000}}' } }], { parameters: { seconds: { kind: 'time', unit: 's', minimum: 0, maximum: 60 } } }),
    rec('sound the buzzer for 2 seconds', [{ name: 'pwm_write', args: { actuator: 'buzzer', duty: 0.5 } }, { name: 'wait', args: { ms: '{{seconds*1000}}' } }, { name: 'pwm_write', args: { actuator: 'buzzer', duty: 0 } }], { parameters: { seconds: { kind: 'time', unit: 's', minimum: 0.1, maximum: 10 } } }),
    rec('open the gripper and raise the arm', [sv('gripper', 0), sv('arm', 150)]),
    rec('open the gripper', [sv('gripper', 0)]),
  ]);
  const r = d.decide('wait 1 second then sound the buzzer for 3 seconds', { allowLlm: false });
  assert.equal(r.mode, 'ORCHESTRATOR');
  assert.deepEqual(r.parts?.map((p) => [p.candidate?.trace.goal_text, p.params]), [['wait 2 seconds', { seconds: 1 }], ['sound the buzzer for 2 seconds', { seconds: 3 }]]);
  assert.equal(served(d.decide('open the gripper and raise the arm', { allowLlm: false })), 'open the gripper and raise the arm');
  assert.equal(served(d.decide('open the gripper then stop', { allowLlm: false })), 'open the gripper', 'a closing stop adds nothing');
  assert.equal(classifyGoal('once more, beep').kind, 'command');
  const unknown = d.decide('open the gripper and make coffee', { allowLlm: false });
  assert.equal(unknown.mode, 'REFUSED');
  assert.match(unknown.error?.message ?? '', /"make coffee"/);
});

test('typos: corrected within edit distance 1 (2 for long words) when unique, reported; real words and critical words are never changed', () => {
  const d = dispatcher([rec('open the gripper', [sv('gripper', 0)]), rec('turn left 90 degrees', [{ name: 'turn', args: { degrees: '{{angle}}' } }], { parameters: { angle: { kind: 'angle', unit: 'deg', minimum: 0, maximum: 720 } } })]);
  const r = d.decide('opne the griprer', { allowLlm: false });
  assert.equal(served(r), 'open the gripper');
  assert.equal(r.didYouMean, 'open the gripper');
  const m = new Matcher({ unitsFor: () => undefined });
  m.load([rec('open the gripper', [sv('gripper', 0)])]);
  assert.deepEqual(m.match('opne the griprer').goal.corrections, [{ from: 'opne', to: 'open' }, { from: 'griprer', to: 'gripper' }]);
  assert.equal(m.match('open the oven').goal.corrections, undefined, '"oven" is a word: never "open"');
  for (const g of ['open the oven', 'turn lift 90 degrees', 'turn in the led']) assert.equal(served(d.decide(g, { allowLlm: false })), null, g);
  assert.equal(served(d.decide('turn lefft 90 degrees', { allowLlm: false })), 'turn left 90 degrees');
  assert.match(d.decide('opne the gripper', { allowLlm: false }).reason ?? '', /did you mean "open the gripper"/);
  assert.equal(editDistance('rigth', 'right'), 1, 'a transposition is one edit');
});

test('WordNet synonyms read as their lexicon word, add no new critical words and never merge opposites', () => {
  assert.ok(Object.keys(SYNONYMS).length > 40);
  for (const [syn, seed] of Object.entries(SYNONYMS)) {
    const a = analyzeGoal(syn);
    const b = analyzeGoal(seed);
    assert.deepEqual([...a.polarity].map(([k, v]) => [k, [...v]]), [...b.polarity].map(([k, v]) => [k, [...v]]), `${syn} -> ${seed}`);
    assert.deepEqual([...a.concepts.keys()].sort(), [...b.concepts.keys()].sort(), `${syn} -> ${seed}`);
  }
  const d = dispatcher([rec('blink the led', [{ name: 'digital_write', args: { actuator: 'led', value: true } }])]);
  assert.equal(served(d.decide('nictitate the led', { allowLlm: false })), 'blink the led');
});

test('honest refusals: nearest traces with scores when something is shared, "nothing in common" only when true', () => {
  const d = dispatcher([rec('open the gripper', [sv('gripper', 0)]), rec('raise the arm', [sv('arm', 150)])]);
  const near = d.decide('wiggle the gripper sideways quickly', { allowLlm: false });
  assert.equal(near.mode, 'REFUSED');
  assert.ok(near.nearest.length > 0);
  assert.match(near.error?.message ?? '', /nearest: "open the gripper" \(0\.\d\d/);
  const none = d.decide('make coffee', { allowLlm: false });
  assert.match(none.error?.message ?? '', /no traces with anything in common/);
});

test('the pruning index finds the same best trace as scoring every trace (synthetic sets)', () => {
  const records = syntheticTraces(3000);
  const m = new Matcher({ unitsFor: () => undefined });
  m.load(records);
  const goals = [...syntheticGoals(records, 300), 'drive the arm forward 2 meters', 'open the gripper', 'turn left 90 degrees', 'flash the lamp quickly'];
  let checked = 0;
  for (const g of goals) {
    const got = m.match(g, 5).candidates;
    const v = goalVector(m.match(g, 1).goal);
    let best = 0;
    for (const r of records) best = Math.max(best, overlapOf(v, m.modelOf(r.trace.goal_signature)!));
    if (best < 0.75) continue;
    checked++;
    assert.equal(Math.max(...got.map((c) => c.overlap)), Math.round(best * 10000) / 10000, g);
  }
  assert.ok(checked > 200, `${checked} goals had a trace above the floor`);
  assert.ok(m.stats.scored / m.stats.matches < 200, `scored ${m.stats.scored / m.stats.matches} traces a match out of 3000`);
});
