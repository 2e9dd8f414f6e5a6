/**
 * Tools as modules: safety/tools/<tool>.ts is all a tool takes (plus its line in the table).
 * The table and the module files agree; each module carries its schema, units, board requirement,
 * definition and handler, and they agree with one another; the compiled validators are those
 * schemas; a board's catalog only narrows them; jog and the docs read from the same table.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packagePath } from '../lib/paths.js';
import { check } from '../lib/validate.js';
import { CONCEPTS } from '../runtime/matcher/lexicon.js';
import { jogAction, jogTargets } from '../runtime/operator/jog-keys.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { buildToolCatalog, TOOL_UNITS, TOOLS, toolNamed, unitLookup } from '../safety/tools/index.js';
import { renderToolReference } from '../safety/tools/reference.js';
import type { PropertySchema, Tool } from '../safety/tools/types.js';

const toolsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'safety', 'tools');
const ALL_ON = { systemTools: true, facts: true };

test('every module in safety/tools/ that exports a tool is in the table under its file name, and the table holds nothing else', async () => {
  const exported = new Map<string, Tool>();
  for (const file of readdirSync(toolsDir).filter((f) => f.endsWith('.js'))) {
    const mod = await import(pathToFileURL(join(toolsDir, file)).href) as { tool?: Tool };
    if (mod.tool) exported.set(basename(file, '.js'), mod.tool);
  }
  assert.ok(exported.size >= 15, `the scanner found the tool modules (${exported.size})`);
  assert.deepEqual([...exported.keys()].sort(), TOOLS.map((t) => t.name).sort(), 'a tool module is missing from the table in safety/tools/index.ts, or the table names a tool without a module');
  for (const [file, tool] of exported) {
    assert.equal(tool.name, file, `safety/tools/${file}.ts declares the tool "${tool.name}"`);
    assert.equal(toolNamed(file), tool, `the table holds the module's own tool object for ${file}`);
  }
  assert.equal(new Set(TOOLS.map((t) => t.name)).size, TOOLS.length, 'tool names are unique');
  assert.equal(toolNamed('__proto__'), undefined);
  assert.equal(toolNamed('constructor'), undefined);
});

test('each tool has a schema, units, a requirement, a definition and a handler, and their argument names agree', () => {
  const boards = ['sim', 'pi-rover', 'arduino-arm', 'serial-gripper'].map((b) => loadBoardProfile(packagePath('boards', `${b}.yaml`)));
  for (const t of TOOLS) {
    const props = Object.keys(t.schema.properties);
    assert.equal(t.schema.type, 'object', t.name);
    assert.equal(t.schema.additionalProperties, false, `${t.name}: unknown arguments are refused`);
    assert.ok(props.length > 0, `${t.name} declares its arguments`);
    for (const r of t.schema.required ?? []) assert.ok(props.includes(r), `${t.name}: required "${r}" is a declared argument`);
    for (const [arg, unit] of Object.entries(t.units)) {
      assert.ok(props.includes(arg), `${t.name}: the unit of "${arg}" names a declared argument`);
      const type = (t.schema.properties[arg] as PropertySchema)['type'];
      assert.ok(type === 'number' || type === 'integer', `${t.name}.${arg}: a unit belongs to a number`);
      assert.ok(Number.isFinite(unit.fromSi) && unit.fromSi > 0, `${t.name}.${arg}: fromSi`);
    }
    assert.equal(typeof t.handler, 'function', `${t.name} has a handler`);
    assert.equal(typeof t.define, 'function', `${t.name} defines itself on a board`);
    assert.ok(t.summary.length > 0, `${t.name} has a summary`);
    for (const c of t.concepts ?? []) assert.ok(CONCEPTS.some((g) => g.id === c), `${t.name}: concept ${c} is in the matcher's lexicon`);
    assert.ok(!t.motion || t.kind === 'actuation', `${t.name}: only an actuation tool moves`);
    assert.equal('actuators' in t.requires, t.kind === 'actuation', `${t.name}: an actuation tool exists through the board's actuators`);
    // A reflex judges, and jog steps, an actuator: only a tool that acts on one may say how.
    if (t.intent || t.jog) assert.ok('actuators' in t.requires && t.requires.actuators.length === 1, `${t.name}: intent/jog need exactly one actuator type`);
    if (t.motion) assert.ok(t.intent && t.nominalMs, `${t.name}: a moving tool says how it moves (intent) and for how long (nominalMs)`);
    let present = 0;
    for (const profile of boards) {
      const def = buildToolCatalog(profile, ALL_ON).get(t.name);
      if (!def) continue;
      present++;
      const bounds = t.define(profile).bounds ?? {};
      for (const arg of Object.keys(bounds)) assert.ok(props.includes(arg), `${t.name}: the board bounds "${arg}", a declared argument`);
      // The board narrows the one schema; it never adds, drops or reorders an argument.
      assert.deepEqual(Object.keys(def.parameters.properties), props, `${t.name}: the board's parameters are the schema's arguments`);
      assert.deepEqual(def.parameters.required, t.schema.required ?? [], `${t.name}: required as declared`);
      assert.deepEqual(def.units, t.units, `${t.name}: units as declared`);
    }
    assert.ok(present > 0, `${t.name} is present on at least one shipped board`);
  }
  assert.deepEqual(Object.keys(TOOL_UNITS).sort(), TOOLS.filter((t) => Object.keys(t.units).length).map((t) => t.name).sort());
  const lookup = unitLookup(new Map());
  assert.deepEqual(lookup('wait', 'ms'), { kind: 'time', fromSi: 1000 }, 'a tool the board lacks still has its units');
  assert.equal(lookup('wait', 'nope'), undefined);
});

/** The smallest arguments the schema accepts: each required argument at its lower bound. */
function minimal(t: Tool): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of t.schema.required ?? []) {
    const p = t.schema.properties[name] as PropertySchema;
    const type = Array.isArray(p['type']) ? (p['type'] as string[])[0] : p['type'];
    const lo = typeof p['minimum'] === 'number' ? p['minimum'] : typeof p['exclusiveMinimum'] === 'number' ? p['exclusiveMinimum'] + 1 : 1;
    out[name] = type === 'string' ? 'a' : type === 'boolean' ? true : type === 'null' ? null : lo;
  }
  return out;
}

test('the compiled validators are the modules\' schemas: one per tool, nothing from elsewhere', () => {
  assert.ok(!existsSync(packagePath('schemas', 'tool-args.schema.json')), 'tool arguments are declared in safety/tools/ only');
  const index = JSON.parse(readFileSync(packagePath('dist', 'lib', 'validators', 'index.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(index).filter((k) => k.startsWith('tool_')).sort(), TOOLS.map((t) => `tool_${t.name}`).sort());
  for (const t of TOOLS) {
    const generated = readFileSync(packagePath('dist', 'lib', 'validators', index[`tool_${t.name}`] as string), 'utf8');
    assert.match(generated.split('\n')[0] as string, new RegExp(`from safety/tools/${t.name}\\.ts\\.`), `${t.name}'s validator says where it comes from`);
    const ok = minimal(t);
    assert.deepEqual(check(`tool_${t.name}`, ok), [], `${t.name}: its minimal arguments pass`);
    assert.deepEqual(check(`tool_${t.name}`, { ...ok, not_an_argument: 1 }).map((i) => i.path), ['/not_an_argument'], `${t.name}: an undeclared argument is refused`);
    for (const r of t.schema.required ?? []) {
      const { [r]: _dropped, ...rest } = ok;
      assert.deepEqual(check(`tool_${t.name}`, rest).map((i) => `${i.path} ${i.message}`), [`/${r} is required`], `${t.name}: ${r} is required`);
    }
    for (const [name, p] of Object.entries(t.schema.properties)) {
      if (typeof p['maximum'] !== 'number') continue;
      const issues = check(`tool_${t.name}`, { ...ok, [name]: (p['maximum'] as number) + 1 });
      assert.deepEqual(issues.map((i) => i.path), [`/${name}`], `${t.name}.${name}: its maximum is enforced`);
    }
  }
});

test('jog makes only calls that the table\'s schemas accept, to the tools acting on the target\'s actuator type', () => {
  const profile = loadBoardProfile('sim');
  const targets = jogTargets(profile);
  assert.ok(targets.length >= 5);
  let calls = 0;
  for (const target of targets) {
    for (const key of ['up', 'down', 'left', 'right']) {
      const a = jogAction(key, target, { current: undefined, scale: 1, stepMs: 250 });
      if (a.kind !== 'call') continue;
      calls++;
      const t = toolNamed(a.call.name);
      assert.ok(t && 'actuators' in t.requires && t.requires.actuators.includes(target.spec.type), `${target.name}: ${a.call.name} acts on ${target.spec.type}`);
      assert.deepEqual(check(`tool_${a.call.name}`, a.call.args), [], `${target.name} ${key}: ${JSON.stringify(a.call)}`);
    }
  }
  assert.ok(calls >= 10, `jog made calls (${calls})`);
});

test('docs/tools.md is what `npm run docs:tools` renders from the table', () => {
  const onDisk = readFileSync(packagePath('docs', 'tools.md'), 'utf8');
  assert.equal(onDisk, renderToolReference(), 'docs/tools.md is stale: run `npm run docs:tools`');
  for (const t of TOOLS) assert.match(onDisk, new RegExp(`^## \`${t.name}\`$`, 'm'));
});
