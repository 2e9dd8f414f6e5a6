/**
 * The error table is the single source of error facts: the generated reference matches it, every
 * code in it is raised somewhere, and the helpers answer from it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { endsRun, ERROR_CODES, exitStatusOf, isRefusal, isRetryable, type ErrorCode } from '../lib/errors.js';
import { renderErrorReference } from '../lib/errors-doc.js';
import { packagePath } from '../lib/paths.js';

test('docs/errors.md is what `npm run docs:errors` generates from lib/errors.ts', () => {
  const onDisk = readFileSync(packagePath('docs', 'errors.md'), 'utf8');
  assert.equal(onDisk, renderErrorReference(), 'docs/errors.md is stale: run `npm run docs:errors`');
  for (const code of Object.keys(ERROR_CODES)) assert.match(onDisk, new RegExp(`\`${code}\``));
});

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

test('every code in the table is raised or checked somewhere outside lib/errors.ts', () => {
  const text = ['runtime', 'safety', 'drivers', 'scripts', 'lib']
    .flatMap((d) => sources(packagePath(d)))
    .filter((p) => !p.endsWith(join('lib', 'errors.ts')) && !p.endsWith(join('lib', 'errors-doc.ts')))
    .map((p) => readFileSync(p, 'utf8')).join('\n');
  const unused = Object.keys(ERROR_CODES).filter((c) => !new RegExp(`\\b${c}\\b`).test(text));
  assert.deepEqual(unused, [], `codes never raised: remove them from lib/errors.ts`);
});

test('the helpers answer from the table, and unknown codes get safe defaults', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  for (const c of codes) {
    assert.equal(isRefusal(c), ERROR_CODES[c].refusal, c);
    assert.equal(isRetryable(c), ERROR_CODES[c].retryable, c);
    assert.equal(endsRun(c), ERROR_CODES[c].endsRun, c);
    assert.equal(exitStatusOf(c), ERROR_CODES[c].usage ? 2 : 1, c);
  }
  // What the four former lists agreed on.
  for (const c of codes.filter((c) => c.startsWith('ERR_SAFETY'))) {
    assert.ok(isRefusal(c) && !isRetryable(c), c);
  }
  assert.ok(isRefusal('ERR_ESTOP_ENGAGED') && isRefusal('ERR_HOOK_BLOCKED'));
  assert.ok(!isRefusal('ERR_DRIVER') && isRetryable('ERR_DRIVER') && isRetryable('ERR_SERIAL_TIMEOUT'));
  assert.deepEqual(codes.filter(endsRun).sort(), ['ERR_ABORTED', 'ERR_BUDGET_EXCEEDED', 'ERR_ESTOP_ENGAGED', 'ERR_SAFETY_WATCHDOG']);
  assert.equal(exitStatusOf('ERR_USAGE'), 2);
  assert.equal(exitStatusOf('ERR_OWNER_BUSY'), 2);
  assert.equal(exitStatusOf('ERR_NO_MATCH'), 1);
  assert.equal(isRefusal('toString'), false);
  assert.equal(isRefusal(undefined), false);
  assert.equal(isRetryable('ERR_SOMETHING_ELSE'), true);
  assert.equal(exitStatusOf('constructor'), 1);
});
