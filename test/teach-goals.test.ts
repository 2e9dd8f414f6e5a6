/**
 * A demonstration is taught for a command only: a trace for a question, a condition or a stop
 * word would never replay (they are classified before any matching), so teach refuses them
 * before the operator moves anything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LlmosError } from '../lib/errors.js';
import { TeachRecorder } from '../runtime/operator/teach.js';

test('teach refuses goals that would never replay: stop words, questions, conditions, statements', () => {
  for (const goal of ['stop', 'emergency stop', 'is the led on?', 'if it is dark, turn on the led', 'the gripper is open', 'wait, stop!']) {
    assert.throws(() => new TeachRecorder(goal), (e: unknown) => e instanceof LlmosError && e.code === 'ERR_NOT_A_COMMAND' && e.message.includes(`"${goal}"`), goal);
  }
  for (const goal of ['raise the arm to 120 degrees', 'stop the winch', 'please turn on the led']) assert.equal(new TeachRecorder(goal).goal, goal);
});
