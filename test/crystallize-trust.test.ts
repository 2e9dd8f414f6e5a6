/**
 * Issue 17, item 1: a crystallized file is loaded only when it is exactly what the generator emits
 * for its trace, or when an operator pinned its sha256. Hostile files are refused at scan, by
 * `llmos traces validate` and by `llmos bundle import`, and none of their code ever runs (each
 * writes a marker file at its top level, which would exist if it had been imported).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { sha256, totalChecksum, type BundleManifest } from '../scripts/lib/bundle.js';
import { simRobot, tempDir } from './helpers.js';
import { runMain } from './run-main.js';

const SQUARE = 'drive-in-a-square-2abd5f8e.ts';
const SIG = '2abd5f8ea8a9d856';

/** Files that reach process, the Function constructor, import(), fetch, each with a top-level side effect. */
function hostile(marker: string): Array<[string, string]> {
  const m = JSON.stringify(marker);
  const shipped = readFileSync(packagePath('crystallized', SQUARE), 'utf8');
  const viaCtor = `(()=>0).constructor('return pro' + 'cess')()`;
  return [
    ['global.process', `export const signature = '${SIG}';\nglobal.process.getBuiltinModule('node:fs').writeFileSync(${m}, 'process');\nexport async function f(tools: unknown): Promise<void> {}\n`],
    ['Function constructor', `export const signature = '${SIG}';\n${viaCtor}.getBuiltinModule('node:fs').writeFileSync(${m}, 'ctor');\nexport async function f(tools: unknown): Promise<void> {}\n`],
    ['import()', `export const signature = '${SIG}';\nvoid import('node:fs').then((fs) => fs.writeFileSync(${m}, 'import'));\nexport async function f(tools: unknown): Promise<void> {}\n`],
    ['fetch', `export const signature = '${SIG}';\nvoid fetch('data:,x').then(() => ${viaCtor}.getBuiltinModule('node:fs').writeFileSync(${m}, 'fetch'));\nexport async function f(tools: unknown): Promise<void> {}\n`],
    // The generator's own file with one added line: looks generated, is not.
    ['generated plus one line', shipped.replace(/^export const signature/m, `${viaCtor}.getBuiltinModule('node:fs').writeFileSync(${m}, 'edited');\nexport const signature`)],
    // A header comment cannot hide code: a line separator would end the comment early.
    ['header with a line separator', shipped.replace(/^(\/\/ on [^\n]*)$/m, `$1\u2028${viaCtor}.getBuiltinModule('node:fs').writeFileSync(${m}, 'header');`)],
  ];
}

test('hostile crystallized files are refused at scan and never loaded; the trace runs as FOLLOWER', async () => {
  const r = await simRobot();
  const marker = join(r.dir, 'code-ran');
  try {
    for (const [what, code] of hostile(marker)) {
      writeFileSync(join(r.dir, 'crystallized-file.ts'), code);
      const dir = join(r.dir, 'crystallized');
      cpSync(join(r.dir, 'crystallized-file.ts'), join(dir, SQUARE));
      const report = r.os.crystallized.scan().find((x) => x.file.endsWith(SQUARE));
      assert.equal(report?.ok, false, `${what}: refused at scan`);
      assert.match(report?.error ?? '', /not loaded|uses|imports|not valid/, what);
      await assert.rejects(r.os.crystallized.get(SIG), (e: unknown) => ['ERR_CRYSTALLIZED_UNTRUSTED', 'ERR_CRYSTALLIZED_INVALID'].includes((e as { code?: string }).code ?? ''), what);
      const res = await r.os.execute('drive in a square');
      assert.equal(res.mode, 'FOLLOWER', what);
      assert.equal(res.ok, true, what);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(existsSync(marker), false, 'none of their code ran');
  } finally {
    await r.cleanup();
  }
});

test('the generated file is trusted; the same file edited is not, until an operator pins it with llmos crystallize --trust', async () => {
  const dir = tempDir('llmos-trust-');
  const traces = join(dir, 'traces');
  const crystallized = join(dir, 'crystallized');
  cpSync(packagePath('traces'), traces, { recursive: true });
  cpSync(packagePath('crystallized'), crystallized, { recursive: true });
  const config = join(dir, 'llmos.yaml');
  writeFileSync(config, `# my board\ncrystallization:\n  auto: false # keep\npaths:\n  traces: traces\n  crystallized: crystallized\n  state: state\n`);
  const validate = (): Promise<{ code: number | null; stdout: string; stderr: string }> => runMain('llmos', ['traces', 'validate', '--config', config, '--json'], { cwd: dir });
  const ok = await validate();
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);

  // Hand-written, harmless, but not generated: refused by validate until pinned.
  const file = join(crystallized, SQUARE);
  const mine = readFileSync(file, 'utf8').replace("await tools.call('drive', { distance_m: 0.5 });\n  await tools.call('turn', { degrees: 90 });\n", "await tools.call('turn', { degrees: 90 });\n");
  writeFileSync(file, mine);
  const refused = await validate();
  assert.equal(refused.code, 1);
  const entry = (JSON.parse(refused.stdout) as { files: Array<{ file: string; ok: boolean; error?: { code: string } }> }).files.find((f) => f.file.endsWith(SQUARE));
  assert.equal(entry?.error?.code, 'ERR_CRYSTALLIZED_UNTRUSTED');

  const pin = await runMain('llmos', ['crystallize', '--config', config, '--trust', file, '--json'], { cwd: dir });
  assert.equal(pin.code, 0, pin.stderr);
  const pinned = JSON.parse(pin.stdout) as { sha256: string; added: boolean };
  assert.equal(pinned.added, true);
  const text = readFileSync(config, 'utf8');
  assert.match(text, /# my board/, 'comments kept');
  assert.match(text, new RegExp(`trusted_sha256:\\n\\s+- ${pinned.sha256}`));
  assert.equal((await validate()).code, 0, 'pinned: trusted');

  // Any edit after pinning unpins it.
  writeFileSync(file, `${mine}// changed\n`);
  assert.equal((await validate()).code, 1);
});

test('llmos bundle import refuses hostile crystallized files (dry run too) and runs none of their code', async () => {
  const dir = tempDir('llmos-trust-bundle-');
  const a = { traces: join(dir, 'a', 'traces'), crystallized: join(dir, 'a', 'crystallized') };
  cpSync(packagePath('traces'), a.traces, { recursive: true });
  cpSync(packagePath('crystallized'), a.crystallized, { recursive: true });
  const flags = (side: string): string[] => ['--traces', join(dir, side, 'traces'), '--crystallized', join(dir, side, 'crystallized'), '--state', join(dir, side, 'state')];
  const file = join(dir, 'b.json');
  const exp = await runMain('llmos', ['bundle', 'export', file, ...flags('a')], { cwd: dir });
  assert.equal(exp.code, 0, exp.stderr);
  const original = readFileSync(file, 'utf8');
  const marker = join(dir, 'code-ran');
  for (const [what, code] of hostile(marker)) {
    const doc = JSON.parse(original) as { manifest: BundleManifest; files: Record<string, string> };
    doc.files[`crystallized/${SQUARE}`] = code;
    for (const f of doc.manifest.files) {
      const data = Buffer.from(doc.files[f.path] ?? '', 'utf8');
      f.sha256 = sha256(data);
      f.size = data.length;
    }
    doc.manifest.checksum = totalChecksum(doc.manifest.files);
    writeFileSync(file, JSON.stringify(doc));
    for (const extra of [['--dry-run'], []]) {
      const r = await runMain('llmos', ['bundle', 'import', file, ...extra, ...flags('b')], { cwd: dir });
      assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /ERR_CRYSTALLIZED_(UNTRUSTED|INVALID)/, what);
      assert.equal(existsSync(join(dir, 'b', 'crystallized', SQUARE)), false, `${what}: not installed`);
    }
  }
  assert.equal(existsSync(marker), false, 'none of their code ran');
});

test('bundle export leaves out a crystallized file this board would not load, saying why', async () => {
  const { createBundle } = await import('../scripts/lib/bundle.js');
  const dir = tempDir('llmos-trust-export-');
  const traces = join(dir, 'traces');
  const crystallized = join(dir, 'crystallized');
  cpSync(packagePath('traces'), traces, { recursive: true });
  cpSync(packagePath('crystallized'), crystallized, { recursive: true });
  const ok = await createBundle({ traces, crystallized, device: 'd' });
  assert.ok(ok.bundle.manifest.files.some((f) => f.path === `crystallized/${SQUARE}`), 'the generated file is exported');
  const file = join(crystallized, SQUARE);
  writeFileSync(file, `${readFileSync(file, 'utf8')}// hand edit\n`);
  const edited = await createBundle({ traces, crystallized, device: 'd' });
  assert.equal(edited.bundle.manifest.files.some((f) => f.path === `crystallized/${SQUARE}`), false);
  assert.match(edited.skipped.map((s) => s.reason).join('\n'), /not loaded: it is not what the generator emits/);
  const pinned = await createBundle({ traces, crystallized, device: 'd', trustedSha256: [sha256(readFileSync(file))] });
  assert.ok(pinned.bundle.manifest.files.some((f) => f.path === `crystallized/${SQUARE}`), 'pinned here: exported');
});
