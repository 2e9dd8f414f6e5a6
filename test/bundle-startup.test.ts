/**
 * What the run-follower bundles parse at every start (scripts/bundle.mjs). Found while measuring
 * issue 21's start-up: a static `import ... from 'yaml'` in one module put ~40 ms into every
 * start, and one character beyond Latin-1 made V8 hold the whole bundle as a two-byte string.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';

/** Packages a runtime bundle may import at load; every other package loads where it is used. */
const AT_LOAD = new Set(['stemmer']);

for (const name of ['run-follower', 'run-agentic-follower', 'forward']) {
  test(`dist/bin/${name}.main.js imports no package at load but ${[...AT_LOAD].join(', ')}, and is ASCII`, () => {
    const text = readFileSync(packagePath('dist', 'bin', `${name}.main.js`), 'utf8');
    const loaded = [...text.matchAll(/^import\s[^;]*?from\s+"([^"]+)";?$/gm)].map((m) => m[1] as string).filter((s) => !s.startsWith('node:'));
    assert.deepEqual(loaded.filter((p) => !AT_LOAD.has(p)), [], 'loaded at every start: make it a lazy require/import where it is used');
    const wide = /[^\x00-\x7f]/.exec(text);
    assert.equal(wide, null, `a non-ASCII character at offset ${wide?.index ?? -1}`);
  });
}
