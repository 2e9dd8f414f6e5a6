import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { generateCrystallized } from '../runtime/crystallize/codegen.js';
import { goalSignature } from '../runtime/matcher/analyze.js';
import { checkIsolated } from '../runtime/crystallize/registry.js';
import { simRobot, tempDir, type SimLogLine, type SimRobot } from './helpers.js';

const options = (dir?: string): Parameters<typeof simRobot>[0] => ({
  overrides: { crystallization: { auto: true, min_usage: 5, min_success: 0.95 }, ...(dir ? { paths: { crystallized: dir } } : {}) },
});

const shape = (w: SimLogLine[]): string[] => w.map((x) => `${x.actuator}${x.channel ? `.${x.channel}` : ''}=${String(x.value)}`);

async function crystallizedDir(r: SimRobot): Promise<string> {
  const dir = join(r.dir, 'crystallized');
  mkdirSync(dir, { recursive: true });
  return dir;
}

test('five successful runs crystallize the trace; the sixth runs CRYSTALLIZED with the same sim log', async () => {
  const dir = join(tempDir(), 'crystallized');
  const r = await simRobot(options(dir));
  try {
    const goal = 'turn right 30 degrees';
    const logs: SimLogLine[][] = [];
    for (let i = 0; i < 6; i++) {
      const before = r.writes().length;
      const res = await r.os.execute(goal);
      assert.equal(res.ok, true, JSON.stringify(res.error));
      assert.equal(res.mode, i < 5 ? 'FOLLOWER' : 'CRYSTALLIZED', `run ${i + 1}`);
      assert.equal(res.llm_calls, 0);
      if (i === 5) assert.equal(res.crystallized, 'turnRightDegrees');
      logs.push(r.writes().slice(before));
    }
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    const code = readFileSync(join(dir, files[0] as string), 'utf8');
    assert.match(code, /^\/\/ Crystallized from trace "turn right 90 degrees" \(goal_signature [0-9a-f]{16}/);
    assert.match(code, /export async function turnRightDegrees\(tools: ToolApi, params: TurnRightDegreesParams\): Promise<void>/);
    assert.match(code, /await tools\.call\('turn', \{ degrees: -params\.angle, speed: 0\.5 \}\);/);
    assert.deepEqual(shape(logs[5] as SimLogLine[]), shape(logs[4] as SimLogLine[]), 'same writes as the trace replay');
    const trace = readFileSync(join(r.dir, 'traces', 'turn-right.yaml'), 'utf8');
    assert.match(trace, /crystallized:\n\s+function: turnRightDegrees\n\s+file: turn-right-90-degrees-[0-9a-f]{8}\.ts/);
    assert.equal(r.os.traces.get(goalSignature('turn right 90 degrees'))?.trace.usage_count, 6, 'crystallized runs keep counting');
    assert.doesNotMatch(trace, /usage_count: [1-9]/, 'counted in the state directory, not in the trace file');
    const other = await r.os.execute('turn right 45 degrees');
    assert.equal(other.mode, 'CRYSTALLIZED');
    assert.equal(other.steps[0]?.args['degrees'], -45, 'parameters reach the function');
  } finally {
    await r.cleanup();
  }
});

test('generated code type-checks with the project\'s tsconfig rules', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'crystallized'));
  mkdirSync(join(dir, 'runtime'));
  cpSync(packagePath('runtime', 'crystallized-api.ts'), join(dir, 'runtime', 'crystallized-api.ts'));
  const r = await simRobot();
  try {
    for (const goal of ['turn right 90 degrees', 'ping the controller', 'pick up the object', 'Create a Python calculator', 'wait 2 seconds']) {
      const sig = r.os.decide(goal).candidate?.trace.goal_signature as string;
      const gen = await r.os.crystallizer.crystallize(sig, { dryRun: true });
      writeFileSync(join(dir, 'crystallized', gen.fileName), gen.code);
    }
  } finally {
    await r.cleanup();
  }
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, erasableSyntaxOnly: true, verbatimModuleSyntax: true, noEmit: true, skipLibCheck: true, types: [] },
    include: ['crystallized', 'runtime'],
  }));
  const tsc = spawnSync(process.execPath, [packagePath('node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});

test('a file that imports anything, uses process, or does not parse is refused; the trace keeps running as FOLLOWER', async () => {
  const r = await simRobot();
  try {
    const dir = await crystallizedDir(r);
    r.os.crystallized.close();
    const sig = r.os.decide('beep').candidate?.trace.goal_signature as string;
    const canary = join(r.dir, 'should-never-exist');
    const variants: Array<[string, RegExp]> = [
      [`import { writeFileSync } from 'node:fs';\nexport const signature = '${sig}';\nexport async function beep(): Promise<void> { writeFileSync(${JSON.stringify(canary)}, 'y'); }\n`, /imports "node:fs"/],
      [`export const signature = '${sig}';\nexport async function beep(): Promise<void> { process.exit(1); }\n`, /uses process/],
      [`export const signature = '${sig}';\nexport async function beep(): Promise<void> { await import('node:child_process'); }\n`, /uses import\(\)/],
      [`export const signature = '${sig}';\nexport async function beep( { oops\n`, /not valid code/],
    ];
    for (const [code, why] of variants) {
      writeFileSync(join(dir, 'beep.ts'), code);
      r.os.crystallized.refresh('beep.ts');
      await assert.rejects(r.os.crystallized.get(sig), (e: unknown) => (e as { code?: string }).code === 'ERR_CRYSTALLIZED_INVALID' && why.test((e as Error).message));
      const res = await r.os.execute('beep');
      assert.equal(res.mode, 'FOLLOWER', 'refused function: the trace runs');
      assert.equal(res.ok, true);
    }
    assert.equal(existsSync(canary), false, 'refused code never ran');
  } finally {
    await r.cleanup();
  }
});

test('hot reload: a crystallized file added while running is used by the next goal; a changed trace is not served by an old function', async () => {
  const r = await simRobot();
  try {
    const dir = await crystallizedDir(r);
    r.os.crystallized.watch();
    const first = await r.os.execute('wave hello');
    assert.equal(first.mode, 'FOLLOWER');
    const sig = first.trace as string;
    const gen = await r.os.crystallizer.crystallize(sig, { dryRun: true });
    writeFileSync(join(dir, gen.fileName), gen.code);
    let mode = '';
    for (let i = 0; i < 50 && mode !== 'CRYSTALLIZED'; i++) {
      await sleep(50);
      mode = r.os.decide('wave hello').mode;
    }
    assert.equal(mode, 'CRYSTALLIZED', 'picked up by the watcher');
    assert.equal((await r.os.execute('wave hello')).mode, 'CRYSTALLIZED');
    // Edit the trace: the function was made from the old one, so the trace runs as FOLLOWER.
    const file = join(r.dir, 'traces', 'wave-hello.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('angle: 140', 'angle: 130'));
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    assert.equal(r.os.decide('wave hello').mode, 'FOLLOWER');
  } finally {
    await r.cleanup();
  }
});

test('the isolation check ignores strings and property names but not references', () => {
  checkIsolated(`export const signature = 'x'; export async function f(t) { await t.call('Bash', { command: "import sys; require('x'); process.exit()" , process: 1 }); t.process; }`, 'ok.ts');
  assert.throws(() => checkIsolated('export async function f(t) { globalThis.x = 1; }', 'bad.ts'), /uses globalThis/);
  assert.throws(() => checkIsolated("export * from 'node:fs';", 'bad.ts'), /re-exports/);
});

test('the shipped crystallized example is current for its trace and runs CRYSTALLIZED', async () => {
  const r = await simRobot({ overrides: { paths: { crystallized: packagePath('crystallized') } } });
  try {
    const d = r.os.decide('drive in a square');
    assert.equal(d.mode, 'CRYSTALLIZED');
    const loaded = await r.os.crystallized.loadAll();
    assert.ok(loaded.length >= 1 && loaded.every((l) => l.ok), JSON.stringify(loaded));
  } finally {
    r.os.crystallized.close();
    await r.cleanup();
  }
});

test('codegen keeps checks, retries and preconditions of the steps', async () => {
  const r = await simRobot();
  try {
    const rec = r.os.traces.get(r.os.decide('pick up the object').candidate?.trace.goal_signature as string);
    assert.ok(rec);
    const gen = generateCrystallized(rec.trace, new Map(), { at: new Date(0), source: 'x.yaml' });
    assert.match(gen.code, /await tools\.precondition\(\[\{ sensor: 'battery', min: 0\.1, description: 'enough charge to lift' \}\]\);/);
    assert.equal((gen.code.match(/await tools\.call\(/g) ?? []).length, rec.trace.tool_calls.length);
  } finally {
    await r.cleanup();
  }
});

test('a crystallized function sends exactly what the replay sends: decimal scales and retries included', async () => {
  const dir = join(tempDir(), 'crystallized');
  const r = await simRobot({ shippedTraces: false, overrides: { paths: { crystallized: dir } } });
  try {
    writeFileSync(join(r.dir, 'traces', 'buzz.yaml'), "goal_text: buzz at level 57\nsuccess_rate: 1\nusage_count: 10\nparameters:\n  level: { unit: count }\ntool_calls:\n  - { name: pwm_write, args: { actuator: buzzer, duty: '{{level*0.01}}' } }\n  - { name: pwm_write, args: { actuator: buzzer, duty: 0 } }\n");
    writeFileSync(join(r.dir, 'traces', 'chk.yaml'), "goal_text: check the battery twice\nsuccess_rate: 1\nusage_count: 10\ntool_calls:\n  - { name: sensor_read, args: { sensor: battery }, check: { sensor: battery, min: 5 }, on_error: retry, retries: 3 }\n");
    r.os.traces.load();
    r.os.matcher.load(r.os.traces.all());
    for (const goal of ['buzz at level 57', 'check the battery twice']) {
      const d = r.os.decide(goal);
      const follower = await r.os.execute(goal);
      assert.equal(follower.mode, 'FOLLOWER');
      await r.os.crystallizer.crystallize(d.candidate!.trace.goal_signature, { dryRun: false });
      const crystallized = await r.os.execute(goal);
      assert.equal(crystallized.mode, 'CRYSTALLIZED', goal);
      assert.deepEqual(crystallized.steps.map((s) => [s.args, s.attempts]), follower.steps.map((s) => [s.args, s.attempts]), goal);
    }
    assert.equal(r.writes().filter((w) => w.actuator === 'buzzer' && w.value !== 0).every((w) => w.value === 0.57), true, 'duty 0.57, not 0.5700000000000001');
  } finally {
    await r.cleanup();
  }
});

test('automatic crystallization never overwrites a file that is there (a refused, hand-edited function)', async () => {
  const dir = join(tempDir(), 'crystallized');
  const r = await simRobot(options(dir));
  try {
    const sig = r.os.decide('beep').candidate?.trace.goal_signature as string;
    mkdirSync(dir, { recursive: true });
    const mine = `// my own work in progress\nimport { readFileSync } from 'node:fs';\nexport const signature = '${sig}';\nexport async function beep(): Promise<void> { readFileSync('x'); }\n`;
    writeFileSync(join(dir, 'beep-by-hand.ts'), mine);
    r.os.crystallized.refresh('beep-by-hand.ts');
    for (let i = 0; i < 7; i++) assert.equal((await r.os.execute('beep')).mode, 'FOLLOWER');
    assert.equal(readFileSync(join(dir, 'beep-by-hand.ts'), 'utf8'), mine, 'untouched');
    assert.deepEqual(readdirSync(dir), ['beep-by-hand.ts'], 'no second file generated beside it');
  } finally {
    await r.cleanup();
  }
});
