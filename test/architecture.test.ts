/**
 * Imports point one way: scripts -> runtime -> safety -> drivers. Nothing but safety/ may import a
 * driver module for anything but types, so the safety gate is the only path to hardware (two
 * benches that measure against a bare driver are the named exception); crystallized functions
 * import nothing but types.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../lib/paths.js';

interface Import { file: string; target: string; typeOnly: boolean }

function sources(dir: string): string[] {
  const abs = join(packageRoot, dir);
  let entries: string[];
  try { entries = readdirSync(abs); } catch { return []; }
  return entries.flatMap((e) => {
    const p = join(abs, e);
    if (statSync(p).isDirectory()) return sources(join(dir, e));
    return /\.ts$/.test(e) && !e.endsWith('.d.ts') ? [p] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[3] ?? m[4] ?? m[5];
    if (!spec?.startsWith('.')) continue;
    const target = relative(packageRoot, resolve(dirname(file), spec));
    out.push({ file: relative(packageRoot, file), target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

const top = (p: string): string => p.split('/')[0] as string;

test('runtime/ never imports a driver module except for types', () => {
  const bad = sources('runtime').flatMap(importsOf).filter((i) => top(i.target) === 'drivers' && !i.typeOnly);
  assert.deepEqual(bad, []);
});

/** Bench modules whose measurement needs a bare driver: the gate's overhead over the driver write, and a sim driver whose range reading the reflex bench steps. */
const SCRIPTS_ALLOWED_DRIVER_IMPORTS = new Set(['scripts/bench/gate-overhead.ts', 'scripts/bench/reflex.ts']);

test('scripts/ never import a driver module except for types (but the two bare-driver benches)', () => {
  const bad = sources('scripts').flatMap(importsOf)
    .filter((i) => top(i.target) === 'drivers' && !i.typeOnly && !SCRIPTS_ALLOWED_DRIVER_IMPORTS.has(i.file));
  assert.deepEqual(bad, []);
  // The exceptions are real (each still imports a driver), so the list cannot outlive its reason.
  for (const file of SCRIPTS_ALLOWED_DRIVER_IMPORTS) {
    assert.ok(importsOf(join(packageRoot, file)).some((i) => top(i.target) === 'drivers' && !i.typeOnly), `${file} no longer imports a driver: drop it from the list`);
  }
});

test('lib/ imports nothing from drivers/, safety/, runtime/ or scripts/', () => {
  const bad = sources('lib').flatMap(importsOf).filter((i) => ['drivers', 'safety', 'runtime', 'scripts'].includes(top(i.target)));
  assert.deepEqual(bad, []);
});

test('drivers/, safety/ and runtime/ import nothing from scripts/', () => {
  const bad = ['drivers', 'safety', 'runtime'].flatMap((d) => sources(d).flatMap(importsOf)).filter((i) => top(i.target) === 'scripts');
  assert.deepEqual(bad, []);
});

test('drivers/ import nothing from safety/ or runtime/', () => {
  const bad = sources('drivers').flatMap(importsOf).filter((i) => ['safety', 'runtime'].includes(top(i.target)));
  assert.deepEqual(bad, []);
});

test('safety/ imports nothing from runtime/ (imports point one way)', () => {
  const bad = sources('safety').flatMap(importsOf).filter((i) => top(i.target) === 'runtime');
  assert.deepEqual(bad, []);
});

test('crystallized/ functions import nothing but types', () => {
  const bad = sources('crystallized').flatMap(importsOf).filter((i) => !i.typeOnly);
  assert.deepEqual(bad, []);
  for (const f of sources('crystallized')) {
    const text = readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /\brequire\s*\(|\bimport\s*\(|^\s*import\s+(?!type\b)/m, `${f} must only import types`);
  }
});

test('tools are declared in safety/tools/ only: no argument schema, unit or tool module reached from elsewhere', () => {
  const dir = 'safety/tools/';
  const code = ['runtime', 'safety', 'scripts', 'lib', 'drivers'].flatMap((d) => sources(d));
  const outside = code.filter((f) => !relative(packageRoot, f).startsWith(dir));
  // The table (index.js) and its rendered reference are the only ways in.
  const bad = outside.flatMap(importsOf).filter((i) => i.target.startsWith(dir) && ![`${dir}index.js`, `${dir}reference.js`].includes(i.target));
  assert.deepEqual(bad, []);
  assert.ok(outside.flatMap(importsOf).some((i) => i.target === `${dir}index.js`), 'the scanner sees the table imported');
  // Units of a tool's arguments (ArgUnit literals) and argument shapes live in the tool modules.
  const units = outside.filter((f) => /\bkind:\s*'[a-z_]+',\s*fromSi:/.test(readFileSync(f, 'utf8'))).map((f) => relative(packageRoot, f));
  assert.deepEqual(units, []);
  assert.deepEqual(readdirSync(join(packageRoot, 'schemas')).filter((f) => /tool/.test(f)), [], 'no tool argument schema in schemas/');
});

test('the agentic executor is one module: only its index.ts is imported from outside its folder', () => {
  const dir = 'runtime/executors/agentic/';
  const all = ['runtime', 'safety', 'scripts', 'lib', 'test'].flatMap((d) => sources(d).flatMap(importsOf));
  const bad = all.filter((i) => i.target.startsWith(dir) && !i.file.startsWith(dir) && i.target !== `${dir}index.js`);
  assert.deepEqual(bad, []);
  assert.ok(all.some((i) => i.target === `${dir}index.js` && !i.file.startsWith(dir)), 'the scanner sees the entry point imported');
});

test('the import scanner sees real imports (it cannot pass vacuously)', () => {
  const gate = importsOf(join(packageRoot, 'safety', 'gate.ts'));
  assert.ok(gate.some((i) => i.target === 'safety/actuators.js'));
  const llmos = importsOf(join(packageRoot, 'runtime', 'llmos.ts'));
  assert.ok(llmos.some((i) => i.target.startsWith('drivers/') && i.typeOnly), 'llmos imports driver types');
  const bench = importsOf(join(packageRoot, 'scripts', 'bench', 'decision.ts'));
  assert.ok(bench.some((i) => i.target === 'safety/open.js'), 'the scanner reads scripts/ too');
});
