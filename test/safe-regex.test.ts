/**
 * Issue 17, item 7: checks in traces cannot block the event loop. `check.matches` runs on a
 * linear-time matcher with bounded input; patterns it cannot run are reported when the trace
 * loads, with the file and the field.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileSafeRegex, MAX_MATCH_INPUT } from '../runtime/safe-regex.js';
import { simRobot } from './helpers.js';
import { runMain } from './run-main.js';

const CATASTROPHIC = "goal_text: check the note\ntool_calls:\n  - { name: fact_read, args: { key: note }, check: { matches: '^(a+)+$' } }\n";

test('^(a+)+$ against a 117-character fact answers at once: the step fails its check and the runtime stays responsive', { timeout: 120000 }, async () => {
  const r = await simRobot({ shippedTraces: false, overrides: { tools: { facts: true } } });
  try {
    writeFileSync(join(r.dir, 'traces', 'note.yaml'), CATASTROPHIC);
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    await r.os.gate.call({ name: 'fact_write', args: { key: 'note', value: `${'a'.repeat(117)}!` } }, { source: 'api', runId: 'w' });
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    const res = await r.os.execute('check the note');
    // The interval got its turns while the goal ran, or at least right after it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(timer);
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'ERR_CHECK_FAILED');
    assert.ok(ticks > 0);
    await r.os.gate.call({ name: 'fact_write', args: { key: 'note', value: 'a'.repeat(117) } }, { source: 'api', runId: 'w' });
    assert.equal((await r.os.execute('check the note')).ok, true, 'a matching value passes');
  } finally {
    await r.cleanup();
  }
});

test('a pattern the matcher cannot run (backreference, lookaround) is reported at load with its file and field', async () => {
  const r = await simRobot({ shippedTraces: false });
  try {
    const file = join(r.dir, 'traces', 'bad.yaml');
    writeFileSync(file, "goal_text: read the distance\ntool_calls:\n  - { name: sensor_read, args: { sensor: distance } }\n  - { name: sensor_read, args: { sensor: distance }, check: [{ min: 0 }, { matches: '(a)\\1' }] }\n");
    writeFileSync(join(r.dir, 'traces', 'look.yaml'), "goal_text: read the battery\npreconditions: [{ sensor: battery, matches: '(?=x)' }]\ntool_calls:\n  - { name: sensor_read, args: { sensor: battery } }\n");
    const report = r.os.traces.load();
    const messages = report.errors.map((e) => e.message).join('\n');
    assert.match(messages, /bad\.yaml: \/tool_calls\/1\/check\/1\/matches: .*backreferences are not supported/);
    assert.match(messages, /look\.yaml: \/preconditions\/0\/matches: .*lookaround/);
    const v = await runMain('llmos', ['traces', 'validate', join(r.dir, 'traces')], { cwd: r.dir });
    assert.equal(v.code, 1);
    assert.match(v.stdout, /bad\.yaml: \/tool_calls\/1\/check\/1\/matches/);
  } finally {
    await r.cleanup();
  }
});

test('input is bounded: a value longer than the limit fails the check instead of being scanned', () => {
  const re = compileSafeRegex('^(a+)+$');
  assert.equal(re.test('a'.repeat(MAX_MATCH_INPUT)), true);
  assert.throws(() => re.test('a'.repeat(MAX_MATCH_INPUT + 1)), (e: unknown) => (e as { code?: string }).code === 'ERR_CHECK_FAILED');
  assert.equal(re.test(`${'a'.repeat(4000)}!`), false);
});

test('property: the linear matcher answers exactly what RegExp answers, for patterns of the supported syntax', () => {
  const atom = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\d', '\\w', '\\s', '[a-c]', '\\.', 'x', '\\b');
  const pattern: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      atom,
      fc.tuple(tie('node'), tie('node')).map(([x, y]) => `${x as string}${y as string}`),
      fc.tuple(tie('node'), tie('node')).map(([x, y]) => `(?:${x as string}|${y as string})`),
      fc.tuple(tie('node'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,}', '*?')).map(([x, q]) => `(${x as string})${q}`)),
  })).node;
  const anchored = fc.tuple(fc.boolean(), pattern, fc.boolean()).map(([b, p, e]) => `${b ? '^' : ''}${p}${e ? '$' : ''}`);
  const input = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1', ' ', '.', '\n', 'x'), maxLength: 12 });
  fc.assert(fc.property(anchored, input, (p, s) => {
    assert.equal(compileSafeRegex(p).test(s), new RegExp(p).test(s), `/${p}/ on ${JSON.stringify(s)}`);
  }), { numRuns: 3000 });
});

test('syntax the matcher refuses is refused with a reason, never half-compiled', () => {
  for (const [p, why] of [['(a)\\1', /backreferences/], ['a(?=b)', /lookaround/], ['a(?<!b)', /lookaround/], ['(?i)a', /lookaround and inline flags/], ['a**', /nothing to repeat/], ['(a', /missing \)/], ['a)', /unmatched/], ['[a', /missing \]/], ['a{3,1}', /out of order/], [`(?:a{100}){100}`, /too large/]] as const) {
    assert.throws(() => compileSafeRegex(p), (e: unknown) => (e as { code?: string }).code === 'ERR_TRACE_INVALID' && why.test((e as Error).message), p);
  }
});
