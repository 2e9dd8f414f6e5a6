/** Trace bundles: round trips between two trace directories, and refusals that write nothing. */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { isLlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { readTar, writeTar } from '../lib/tar.js';
import { check } from '../lib/validate.js';
import { createBundle, importBundle, readBundle, sha256, totalChecksum, writeBundle, type BundleManifest } from '../scripts/lib/bundle.js';
import { tempDir , type CliRun } from './helpers.js';
import { runMain } from './run-main.js';


function llmos(args: string[], cwd: string): Promise<CliRun> {
  return runMain('llmos', args, { cwd });
}

interface Side { dir: string; traces: string; crystallized: string; flags: string[] }

function side(withShipped: boolean): Side {
  const dir = tempDir('llmos-bundle-');
  const traces = join(dir, 'traces');
  const crystallized = join(dir, 'crystallized');
  if (withShipped) {
    cpSync(packagePath('traces'), traces, { recursive: true });
    cpSync(packagePath('crystallized'), crystallized, { recursive: true });
  }
  return { dir, traces, crystallized, flags: ['--traces', traces, '--crystallized', crystallized, '--state', join(dir, 'state')] };
}

/** Every file of a directory, name -> bytes (empty for a directory that does not exist). */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(dir)) return m;
  for (const n of readdirSync(dir).sort()) m.set(n, readFileSync(join(dir, n)).toString('base64'));
  return m;
}

/** Rewrites a JSON bundle's files and recomputes every checksum, as a careless exporter would. */
function reseal(file: string, edit: (files: Record<string, string>, manifest: BundleManifest) => void): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { manifest: BundleManifest; files: Record<string, string> };
  edit(doc.files, doc.manifest);
  for (const f of doc.manifest.files) {
    const data = Buffer.from(doc.files[f.path] ?? '', 'utf8');
    f.sha256 = sha256(data);
    f.size = data.length;
  }
  doc.manifest.checksum = totalChecksum(doc.manifest.files);
  writeFileSync(file, JSON.stringify(doc));
}

for (const container of ['json', 'tar', 'dir'] as const) {
  test(`a ${container} bundle round-trips between two trace directories byte for byte, crystallized included`, async () => {
    const a = side(true);
    const b = side(false);
    const out = join(a.dir, container === 'dir' ? 'bundle' : `bundle.${container}`);
    const exp = await llmos(['bundle', 'export', out, '--json', ...a.flags], a.dir);
    assert.equal(exp.code, 0, exp.stderr);
    const e = JSON.parse(exp.stdout) as { container: string; traces: number; crystallized: number; checksum: string };
    assert.equal(e.container, container);
    assert.equal(e.traces, readdirSync(a.traces).length);
    assert.equal(e.crystallized, 1);

    const imp = await llmos(['bundle', 'import', out, '--json', ...b.flags], b.dir);
    assert.equal(imp.code, 0, imp.stderr);
    const r = JSON.parse(imp.stdout) as { checksum: string; actions: Array<{ action: string }> };
    assert.equal(r.checksum, e.checksum);
    assert.ok(r.actions.every((x) => x.action === 'write'));
    assert.deepEqual(snapshot(b.traces), snapshot(a.traces));
    assert.deepEqual(snapshot(b.crystallized), snapshot(a.crystallized));

    // The copy works on the other side: the crystallized function serves its trace there.
    const list = JSON.parse((await llmos(['traces', 'list', '--json', ...b.flags], b.dir)).stdout) as { traces: Array<{ name: string; mode: string }> };
    assert.equal(list.traces.find((t) => t.name === 'drive-square.yaml')?.mode, 'CRYSTALLIZED');

    const again = await llmos(['bundle', 'import', out, '--json', ...b.flags], b.dir);
    assert.equal(again.code, 0);
    assert.ok((JSON.parse(again.stdout) as { actions: Array<{ action: string; reason: string }> }).actions.every((x) => x.action === 'skip' && x.reason === 'identical'));
  });
}

test('export --only takes the named traces and their functions; the manifest passes its schema', async () => {
  const a = side(true);
  const { bundle } = await createBundle({ traces: a.traces, crystallized: a.crystallized, device: 'arm-7', only: ['drive in a square', 'beep.yaml'] });
  assert.deepEqual(bundle.manifest.files.map((f) => f.path).sort(), ['crystallized/drive-in-a-square-2abd5f8e.ts', 'traces/beep.yaml', 'traces/drive-square.yaml']);
  assert.equal(bundle.manifest.source_device, 'arm-7');
  assert.deepEqual(check('bundle', bundle.manifest), []);
  assert.deepEqual(check('bundle', { ...bundle.manifest, version: 2 }).map((i) => i.path), ['/version']);
  await assert.rejects(createBundle({ traces: a.traces, crystallized: a.crystallized, device: 'x', only: ['fly to the moon'] }), /ERR_TRACE_NOT_FOUND|no valid trace "fly to the moon"/);
});

test('a tampered bundle is refused on its checksum and nothing is written', async () => {
  const a = side(true);
  const json = join(a.dir, 'b.json');
  const tar = join(a.dir, 'b.tar');
  assert.equal((await llmos(['bundle', 'export', json, ...a.flags], a.dir)).code, 0);
  assert.equal((await llmos(['bundle', 'export', tar, ...a.flags], a.dir)).code, 0);

  // A file changed after export (JSON): a larger distance in a replayed trace.
  const doc = JSON.parse(readFileSync(json, 'utf8')) as { files: Record<string, string> };
  doc.files['traces/drive-square.yaml'] = (doc.files['traces/drive-square.yaml'] as string).replace('distance_m: 0.5', 'distance_m: 5.0');
  writeFileSync(json, JSON.stringify(doc));
  const b = side(false);
  const r = await llmos(['bundle', 'import', json, ...b.flags], b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_BUNDLE_CHECKSUM: .*traces\/drive-square\.yaml: sha256 does not match/);
  assert.equal(snapshot(b.traces).size + snapshot(b.crystallized).size, 0);

  // A byte flipped inside the tar; the archive itself stays readable.
  const entries = readTar(readFileSync(tar), tar, 'ERR_BUNDLE_INVALID');
  const beep = entries.get('traces/beep.yaml') as Buffer;
  beep[0] = beep[0] === 0x23 ? 0x20 : 0x23;
  writeFileSync(tar, writeTar([...entries].map(([path, data]) => ({ path, data }))));
  const t = await llmos(['bundle', 'import', tar, ...b.flags], b.dir);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /ERR_BUNDLE_CHECKSUM: .*traces\/beep\.yaml/);

  // The total checksum covers the file list: a dropped file is noticed.
  const c = join(a.dir, 'c.json');
  assert.equal((await llmos(['bundle', 'export', c, ...a.flags], a.dir)).code, 0);
  const d = JSON.parse(readFileSync(c, 'utf8')) as { manifest: BundleManifest; files: Record<string, string> };
  d.manifest.files = d.manifest.files.filter((f) => f.path !== 'traces/wait.yaml');
  delete d.files['traces/wait.yaml'];
  writeFileSync(c, JSON.stringify(d));
  await assert.rejects(importBundle(c, { traces: b.traces, crystallized: b.crystallized }), (e) => isLlmosError(e) && e.code === 'ERR_BUNDLE_CHECKSUM' && /manifest checksum/.test(e.message));
  assert.equal(snapshot(b.traces).size + snapshot(b.crystallized).size, 0);
});

test('an invalid trace or an unsafe function inside a bundle with correct checksums is refused; nothing is written', async () => {
  const a = side(true);
  const file = join(a.dir, 'b.json');
  assert.equal((await llmos(['bundle', 'export', file, ...a.flags], a.dir)).code, 0);
  const b = side(false);

  reseal(file, (files) => { files['traces/wave-hello.yaml'] = 'goal_text: wave hello\ntool_calls:\n  - { name: servo_move, arg: { actuator: arm } }\n'; });
  const r = await llmos(['bundle', 'import', file, ...b.flags], b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_TRACE_INVALID: .*b\.json:traces\/wave-hello\.yaml: \/tool_calls\/0\/arg: is not a known field/);
  assert.equal(snapshot(b.traces).size + snapshot(b.crystallized).size, 0);

  const fresh = join(a.dir, 'c.json');
  assert.equal((await llmos(['bundle', 'export', fresh, ...a.flags], a.dir)).code, 0);
  reseal(fresh, (files) => {
    const p = 'crystallized/drive-in-a-square-2abd5f8e.ts';
    files[p] = `import { writeFileSync } from 'node:fs';\n${files[p] as string}`;
  });
  const f = await llmos(['bundle', 'import', fresh, ...b.flags], b.dir);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /ERR_CRYSTALLIZED_INVALID: .*drive-in-a-square-2abd5f8e\.ts: .*imports "node:fs"/);
  assert.equal(snapshot(b.traces).size + snapshot(b.crystallized).size, 0);

  // Checking a bundle never runs its code: a function whose top level writes a file (past the
  // isolation check, which is a guard against mistakes, not a sandbox) runs nothing on --dry-run,
  // and it is refused: it is not what the generator emits for its trace, and nobody pinned it
  // (issue 17; this dry run used to pass).
  const sneaky = join(a.dir, 's.json');
  const marker = join(a.dir, 'code-ran');
  assert.equal((await llmos(['bundle', 'export', sneaky, ...a.flags], a.dir)).code, 0);
  reseal(sneaky, (files) => {
    const p = 'crystallized/drive-in-a-square-2abd5f8e.ts';
    files[p] = (files[p] as string).replace(/^export const signature/m, `const P = ({}).constructor.constructor('return pro' + 'cess')();\nP.getBuiltinModule('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nexport const signature`);
  });
  const dry = await llmos(['bundle', 'import', sneaky, '--dry-run', ...b.flags], b.dir);
  assert.equal(dry.code, 1, dry.stderr);
  assert.match(dry.stderr, /ERR_CRYSTALLIZED_UNTRUSTED: .*drive-in-a-square-2abd5f8e\.ts: not loaded/);
  assert.equal(existsSync(marker), false, 'the bundle check did not run the function');

  // A path outside traces/ and crystallized/ fails the manifest schema.
  const evil = join(a.dir, 'd.json');
  assert.equal((await llmos(['bundle', 'export', evil, ...a.flags], a.dir)).code, 0);
  reseal(evil, (files, manifest) => {
    files['traces/../../evil.yaml'] = files['traces/beep.yaml'] as string;
    manifest.files.push({ ...(manifest.files[0] as BundleManifest['files'][number]), path: 'traces/../../evil.yaml' });
  });
  await assert.rejects(importBundle(evil, { traces: b.traces, crystallized: b.crystallized }), (e) => isLlmosError(e) && e.code === 'ERR_BUNDLE_INVALID' && /\/files\/\d+\/path/.test(e.message));
  assert.ok(!existsSync(join(b.dir, '..', 'evil.yaml')));
  assert.equal(snapshot(b.traces).size, 0);
});

test('import refuses to replace a different existing trace unless --force; identical files are skipped', async () => {
  const a = side(true);
  const out = join(a.dir, 'b.tar');
  assert.equal((await llmos(['bundle', 'export', out, ...a.flags], a.dir)).code, 0);
  const b = side(true);
  const changed = readFileSync(join(b.traces, 'beep.yaml'), 'utf8').replace(/usage_count: \d+/, 'usage_count: 7');
  writeFileSync(join(b.traces, 'beep.yaml'), changed);
  const before = snapshot(b.traces);
  const r = await llmos(['bundle', 'import', out, ...b.flags], b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_TRACE_CONFLICT: .*nothing written.*\n.*traces\/beep\.yaml: .*beep\.yaml exists with different content/);
  assert.deepEqual(snapshot(b.traces), before);

  const dry = await llmos(['bundle', 'import', out, '--force', '--dry-run', '--json', ...b.flags], b.dir);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as { actions: Array<{ path: string; action: string }> };
  assert.deepEqual(plan.actions.filter((x) => x.action !== 'skip').map((x) => `${x.action} ${x.path}`), ['replace traces/beep.yaml']);
  assert.deepEqual(snapshot(b.traces), before);

  const forced = await llmos(['bundle', 'import', out, '--force', ...b.flags], b.dir);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(join(b.traces, 'beep.yaml'), 'utf8'), readFileSync(join(a.traces, 'beep.yaml'), 'utf8'));
});

test('readBundle reads a tar made by hand from a bundle directory under a top folder', async () => {
  const a = side(true);
  const { bundle } = await createBundle({ traces: a.traces, crystallized: a.crystallized, device: 'pi-1', only: ['beep'] });
  const dir = join(a.dir, 'exported');
  assert.equal(await writeBundle(bundle, dir), 'dir');
  const entries = [
    { path: 'exported/manifest.json', data: readFileSync(join(dir, 'manifest.json')) },
    { path: './exported/traces/beep.yaml', data: readFileSync(join(dir, 'traces', 'beep.yaml')) },
  ];
  const tar = join(a.dir, 'hand.tar');
  writeFileSync(tar, writeTar(entries));
  const read = readBundle(tar);
  assert.equal(read.manifest.checksum, bundle.manifest.checksum);
  assert.deepEqual([...read.contents.keys()], ['traces/beep.yaml']);
  await assert.rejects(writeBundle(bundle, dir), /non-empty directory/);
});

test('--force never replaces a file that holds a different goal, nor removes a file it has just written', async () => {
  const src = tempDir('llmos-bundle-');
  const from = { traces: join(src, 'traces'), crystallized: join(src, 'crystallized') };
  mkdirSync(from.traces, { recursive: true });
  writeFileSync(join(from.traces, 'a.yaml'), readFileSync(packagePath('traces', 'beep.yaml')));
  writeFileSync(join(from.traces, 'b.yaml'), readFileSync(packagePath('traces', 'wave-hello.yaml')));
  const { bundle } = await createBundle({ ...from, device: 'test' });
  const file = join(src, 'ab.json');
  await writeBundle(bundle, file);
  // On the board, b.yaml holds the bundle's *first* goal (beep), with other steps.
  const dst = tempDir('llmos-bundle-');
  const to = { traces: join(dst, 'traces'), crystallized: join(dst, 'crystallized') };
  mkdirSync(to.traces, { recursive: true });
  const otherBeep = readFileSync(packagePath('traces', 'beep.yaml'), 'utf8').replace('ms: 200', 'ms: 300');
  writeFileSync(join(to.traces, 'b.yaml'), otherBeep);
  await assert.rejects(importBundle(file, { ...to, force: true }), (e) => isLlmosError(e) && e.code === 'ERR_TRACE_CONFLICT' && /b\.yaml holds another goal \("beep"\)/.test(e.message));
  assert.deepEqual([...snapshot(to.traces).keys()], ['b.yaml'], 'nothing written');
  assert.equal(readFileSync(join(to.traces, 'b.yaml'), 'utf8'), otherBeep);
  // Renamed out of the way, --force replaces the old beep (in x.yaml) by the bundle's a.yaml
  // and writes b.yaml: both goals are there afterwards.
  renameSync(join(to.traces, 'b.yaml'), join(to.traces, 'x.yaml'));
  const r = await importBundle(file, { ...to, force: true });
  assert.deepEqual(r.removed.map((f) => basename(f)), ['x.yaml']);
  assert.deepEqual([...snapshot(to.traces).keys()], ['a.yaml', 'b.yaml']);
  assert.equal(readFileSync(join(to.traces, 'a.yaml'), 'utf8'), readFileSync(packagePath('traces', 'beep.yaml'), 'utf8'));
});
