/**
 * Trace bundles: a set of traces and crystallized functions to copy to another board, with a
 * manifest (format version, creation time, source device, sha256 per file, a total checksum;
 * schemas/bundle.schema.json). Three containers hold the same content:
 *   out.json  one JSON document {manifest, files: {path: text}}
 *   out.tar   manifest.json, traces/*.yaml, crystallized/*.ts (plain ustar)
 *   dir/      the same layout as the tar
 * Import checks everything before writing anything: the manifest, every checksum, every trace
 * against the trace schema, every crystallized file with the loader's isolation check, and
 * conflicts with the target directories. Files are then written atomically, one by one; files
 * identical to what is there are skipped.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic, writeFilesAtomic } from '../../lib/atomic-file.js';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import { packagePath } from '../../lib/paths.js';
import { readTar, writeTar } from '../../lib/tar.js';
import { assertValid } from '../../lib/validate.js';
import { parseYaml } from '../../lib/yaml-file.js';
import { checkCrystallizedSource } from '../../runtime/crystallize/registry.js';
import { trustPolicy } from '../../runtime/crystallize/trust.js';
import { parseTraceDocument, TraceStore } from '../../runtime/traces/store.js';
import { findTrace, sameTrace } from './trace-import.js';
import { withRunStats } from '../../runtime/traces/stats-export.js';
import { TraceStatsJournal } from '../../runtime/traces/stats.js';
import type { TraceRecord } from '../../runtime/traces/types.js';

export const BUNDLE_FORMAT = 'llmos-trace-bundle';
export const BUNDLE_VERSION = 1;

export interface BundleFile {
  path: string;
  kind: 'trace' | 'crystallized';
  size: number;
  sha256: string;
  signature?: string;
  goal_text?: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  created: string;
  source_device: string;
  runtime_version?: string;
  files: BundleFile[];
  checksum: string;
}

export interface Bundle {
  manifest: BundleManifest;
  contents: Map<string, Buffer>;
}

export type Progress = (done: number, total: number, what: string) => void;

export interface Skipped { file: string; reason: string }

const SIG_RE = /^export const signature\s*=\s*'([0-9a-f]{16})';/m;
// ignoreBOM: a trace that starts with a byte-order mark keeps it, so its checksum still matches.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 over "<path>\t<sha256>\n" of every file, sorted by path: one number for the whole set. */
export function totalChecksum(files: ReadonlyArray<Pick<BundleFile, 'path' | 'sha256'>>): string {
  return sha256([...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => `${f.path}\t${f.sha256}\n`).join(''));
}

function listDir(dir: string, re: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => re.test(n) && !n.startsWith('.')).sort();
}

function runtimeVersion(): string | undefined {
  try { return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string }).version; } catch { return undefined; }
}

/** Parses and validates one trace file's bytes (ERR_TRACE_INVALID naming `where` and the field). */
function parseTraceBytes(data: Buffer, where: string): TraceRecord {
  let text: string;
  try { text = utf8.decode(data); } catch { throw new LlmosError('ERR_TRACE_INVALID', `${where}: not UTF-8 text`); }
  return parseTraceDocument(parseYaml(text, where, 'ERR_TRACE_INVALID'), where).record;
}

export interface ExportOptions {
  traces: string;
  crystallized: string;
  device: string;
  /** Names, signatures or goal texts of the traces to export (default: all). */
  only?: readonly string[];
  now?: Date;
  progress?: Progress;
  /** sha256 of hand-written crystallized files this board's operator trusts (config). */
  trustedSha256?: readonly string[];
  /** The state directory's run-statistics journal: exported traces carry the merged counts. */
  statsFile?: string;
}

/** Collects valid traces (and the crystallized functions of those traces) into a bundle. */
export async function createBundle(o: ExportOptions): Promise<{ bundle: Bundle; skipped: Skipped[] }> {
  const skipped: Skipped[] = [];
  const records: Array<TraceRecord & { data: Buffer; name: string }> = [];
  const seen = new Map<string, string>();
  const names = listDir(o.traces, /\.ya?ml$/i);
  for (const [i, name] of names.entries()) {
    o.progress?.(i + 1, names.length, name);
    const file = join(o.traces, name);
    const data = readFileSync(file);
    try {
      const rec = parseTraceBytes(data, file);
      const dup = seen.get(rec.trace.goal_signature);
      if (dup) { skipped.push({ file, reason: `same goal as ${dup}` }); continue; }
      seen.set(rec.trace.goal_signature, name);
      records.push({ ...rec, data, name });
    } catch (e) {
      skipped.push({ file, reason: toLlmosError(e).message });
    }
  }
  let chosen = records;
  if (o.only && o.only.length > 0) {
    chosen = o.only.map((key) => {
      const hit = findTrace(records, key) as (typeof records)[number] | undefined;
      if (!hit) throw new LlmosError('ERR_TRACE_NOT_FOUND', `no valid trace "${key}" in ${o.traces}`);
      return hit;
    });
    chosen = [...new Set(chosen)];
  }
  const files: BundleFile[] = [];
  const contents = new Map<string, Buffer>();
  const journal = o.statsFile ? new TraceStatsJournal(o.statsFile).load() : undefined;
  for (const r of chosen) {
    const path = `traces/${r.name}`;
    if (journal) r.data = withRunStats(r, journal);
    files.push({ path, kind: 'trace', size: r.data.length, sha256: sha256(r.data), signature: r.trace.goal_signature, goal_text: r.trace.goal_text });
    contents.set(path, r.data);
  }
  const wanted = new Set(chosen.map((r) => r.trace.goal_signature));
  for (const name of listDir(o.crystallized, /\.ts$/)) {
    if (name.endsWith('.d.ts')) continue;
    const file = join(o.crystallized, name);
    const data = readFileSync(file);
    const sig = SIG_RE.exec(data.toString('utf8'))?.[1];
    if (!sig || !wanted.has(sig)) continue;
    try {
      // Only what this board would load: generated for its trace, or pinned here.
      const traceOf = (x: string): TraceRecord['trace'] | undefined => chosen.find((r) => r.trace.goal_signature === x)?.trace;
      checkCrystallizedSource(data.toString('utf8'), file, sig, trustPolicy(o.trustedSha256, traceOf));
    } catch (e) {
      skipped.push({ file, reason: toLlmosError(e).message });
      continue;
    }
    const path = `crystallized/${name}`;
    files.push({ path, kind: 'crystallized', size: data.length, sha256: sha256(data), signature: sig });
    contents.set(path, data);
  }
  const version = runtimeVersion();
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT, version: BUNDLE_VERSION, created: (o.now ?? new Date()).toISOString(), source_device: o.device,
    ...(version ? { runtime_version: version } : {}), files, checksum: totalChecksum(files),
  };
  assertValid('bundle', manifest, 'bundle manifest', 'ERR_INTERNAL');
  return { bundle: { manifest, contents }, skipped };
}

export type Container = 'json' | 'tar' | 'dir';

export function containerOf(out: string): Container {
  if (/\.json$/i.test(out)) return 'json';
  if (/\.tar$/i.test(out)) return 'tar';
  // Anything else with an extension (out.tgz, x.zip) is a typo, not a directory name.
  if (/\.[A-Za-z0-9]{1,5}$/.test(basename(out)) && !(existsSync(out) && statSync(out).isDirectory())) {
    throw new LlmosError('ERR_USAGE', `${out}: a bundle is a .json file, a .tar file or a directory`);
  }
  return 'dir';
}

/** Writes a bundle; refuses to replace an existing bundle file or a non-empty directory. */
export async function writeBundle(bundle: Bundle, out: string): Promise<Container> {
  const target = resolve(out);
  const kind = containerOf(target);
  const manifestText = `${JSON.stringify(bundle.manifest, null, 2)}\n`;
  if (kind !== 'dir') {
    if (existsSync(target)) throw new LlmosError('ERR_USAGE', `${out} exists; choose a new file name`);
    if (kind === 'json') {
      const files: Record<string, string> = {};
      for (const f of bundle.manifest.files) files[f.path] = utf8.decode(bundle.contents.get(f.path) as Buffer);
      await writeFileAtomic(target, `${JSON.stringify({ manifest: bundle.manifest, files }, null, 2)}\n`);
    } else {
      const entries = [{ path: 'manifest.json', data: Buffer.from(manifestText) }, ...bundle.manifest.files.map((f) => ({ path: f.path, data: bundle.contents.get(f.path) as Buffer }))];
      await writeFileAtomic(target, writeTar(entries, Date.parse(bundle.manifest.created)));
    }
    return kind;
  }
  if (existsSync(target) && readdirSync(target).length > 0) throw new LlmosError('ERR_USAGE', `${out} is a non-empty directory; give a new or empty one`);
  // Built beside the target and renamed, so a half-written bundle directory never appears.
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const f of bundle.manifest.files) await writeFileAtomic(join(tmp, f.path), bundle.contents.get(f.path) as Buffer);
    await writeFileAtomic(join(tmp, 'manifest.json'), manifestText);
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return kind;
}

/** Reads a bundle from a .json file, a .tar file or a directory (no checks beyond the container). */
export function readBundle(path: string): Bundle {
  const where = path;
  let st;
  try { st = statSync(path); } catch { throw new LlmosError('ERR_CONFIG_NOT_FOUND', `${path}: no such bundle`); }
  let manifest: unknown;
  const contents = new Map<string, Buffer>();
  if (st.isDirectory()) {
    if (!existsSync(join(path, 'manifest.json'))) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: no manifest.json in the bundle directory`);
    manifest = parseJson(readFileSync(join(path, 'manifest.json'), 'utf8'), `${where}/manifest.json`);
    for (const sub of ['traces', 'crystallized']) {
      for (const n of listDir(join(path, sub), /./)) contents.set(`${sub}/${n}`, readFileSync(join(path, sub, n)));
    }
  } else {
    const buf = readFileSync(path);
    if (buf.subarray(0, 64).toString('utf8').trimStart().startsWith('{')) {
      const doc = parseJson(buf.toString('utf8'), where) as { manifest?: unknown; files?: unknown };
      if (typeof doc !== 'object' || doc === null || typeof doc.files !== 'object' || doc.files === null || Array.isArray(doc.files)) {
        throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: a JSON bundle is {"manifest": {...}, "files": {"<path>": "<text>"}}`);
      }
      manifest = doc.manifest;
      for (const [p, text] of Object.entries(doc.files as Record<string, unknown>)) {
        if (typeof text !== 'string') throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: /files/${p}: must be a string`);
        contents.set(p, Buffer.from(text, 'utf8'));
      }
    } else {
      const entries = readTar(buf, where, 'ERR_BUNDLE_INVALID');
      // A tar made by hand from a bundle directory may hold it under a top folder.
      const manifests = [...entries.keys()].filter((k) => k === 'manifest.json' || k.endsWith('/manifest.json')).sort((a, b) => a.length - b.length);
      if (manifests.length === 0) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: no manifest.json in the archive`);
      const root = (manifests[0] as string).slice(0, -'manifest.json'.length);
      for (const [k, v] of entries) {
        if (!k.startsWith(root)) continue;
        const rel = k.slice(root.length);
        if (rel === 'manifest.json') manifest = parseJson(v.toString('utf8'), `${where}:manifest.json`);
        else contents.set(rel, v);
      }
    }
  }
  return { manifest: manifest as BundleManifest, contents };
}

function parseJson(text: string, where: string): unknown {
  try { return JSON.parse(text); } catch (e) { throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: not valid JSON: ${(e as Error).message}`); }
}

/** Checks a bundle's manifest, checksums, traces and crystallized code; returns the parsed traces. */
export async function verifyBundle(bundle: Bundle, where: string, progress?: Progress, trustedSha256?: readonly string[]): Promise<Map<string, TraceRecord>> {
  assertValid('bundle', bundle.manifest, `${where}: manifest`, 'ERR_BUNDLE_INVALID');
  const m = bundle.manifest;
  const listed = new Set<string>();
  for (const f of m.files) {
    if (listed.has(f.path)) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: ${f.path} is listed twice in the manifest`);
    listed.add(f.path);
    if (f.kind !== (f.path.startsWith('traces/') ? 'trace' : 'crystallized')) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: ${f.path}: kind "${f.kind}" does not match its directory`);
    const data = bundle.contents.get(f.path);
    if (!data) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: ${f.path} is in the manifest but not in the bundle`);
    if (data.length !== f.size || sha256(data) !== f.sha256) throw new LlmosError('ERR_BUNDLE_CHECKSUM', `${where}: ${f.path}: sha256 does not match the manifest (the file was changed or damaged)`);
  }
  for (const p of bundle.contents.keys()) if (!listed.has(p)) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: ${p} is in the bundle but not in the manifest`);
  if (totalChecksum(m.files) !== m.checksum) throw new LlmosError('ERR_BUNDLE_CHECKSUM', `${where}: the manifest checksum does not match its file list`);
  const traces = new Map<string, TraceRecord>();
  const sigs = new Map<string, string>();
  const bySig = new Map<string, TraceRecord>();
  const total = m.files.length;
  let done = 0;
  for (const f of m.files.filter((x) => x.kind === 'trace')) {
    progress?.(++done, total, f.path);
    const rec = parseTraceBytes(bundle.contents.get(f.path) as Buffer, `${where}:${f.path}`);
    const dup = sigs.get(rec.trace.goal_signature);
    if (dup) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: ${f.path} has the same goal as ${dup}`);
    sigs.set(rec.trace.goal_signature, f.path);
    bySig.set(rec.trace.goal_signature, rec);
    traces.set(f.path, rec);
  }
  for (const f of m.files.filter((x) => x.kind === 'crystallized')) {
    progress?.(++done, total, f.path);
    let text: string;
    try { text = utf8.decode(bundle.contents.get(f.path) as Buffer); } catch { throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${where}:${f.path}: not UTF-8 text`); }
    // What the loader would decide, nothing imported: generated for its trace in this bundle, or
    // pinned by this board's operator (a bundle cannot vouch for its own code).
    const { signature } = checkCrystallizedSource(text, `${where}:${f.path}`, undefined, trustPolicy(trustedSha256, (sig) => bySig.get(sig)?.trace));
    if (!sigs.has(signature)) throw new LlmosError('ERR_BUNDLE_INVALID', `${where}: ${f.path} was crystallized from trace ${signature}, which is not in the bundle`);
  }
  return traces;
}

export interface ImportOptions {
  traces: string;
  crystallized: string;
  /** Replace different existing files instead of refusing. */
  force?: boolean;
  dryRun?: boolean;
  /** sha256 of hand-written crystallized files this board's operator trusts (config). */
  trustedSha256?: readonly string[];
  progress?: Progress;
  /** Progress of the writes (after every check passed). */
  writeProgress?: Progress;
}

export interface ImportAction { path: string; target: string; action: 'write' | 'replace' | 'skip'; reason?: string }

export interface ImportResult {
  source_device: string;
  created: string;
  checksum: string;
  actions: ImportAction[];
  /** Older files of the same trace removed by --force. */
  removed: string[];
}

/** Verifies a bundle, plans against the target directories, then writes (unless dryRun). */
export async function importBundle(path: string, o: ImportOptions): Promise<ImportResult> {
  const bundle = readBundle(path);
  const traces = await verifyBundle(bundle, path, o.progress, o.trustedSha256);
  const store = new TraceStore({ dir: o.traces });
  store.load();
  const actions: ImportAction[] = [];
  const removed: string[] = [];
  const conflicts: string[] = [];
  // Signatures of the functions already installed, read once.
  const installedFns = new Map<string, string>();
  for (const n of listDir(o.crystallized, /\.ts$/)) {
    const sig = SIG_RE.exec(readFileSync(join(o.crystallized, n), 'utf8'))?.[1];
    if (sig) installedFns.set(join(o.crystallized, n), sig);
  }
  const byFile = new Map(store.all().map((r) => [resolve(r.file), r]));
  for (const f of bundle.manifest.files) {
    const dir = f.kind === 'trace' ? o.traces : o.crystallized;
    const target = join(dir, basename(f.path));
    const data = bundle.contents.get(f.path) as Buffer;
    const existing = existsSync(target) ? readFileSync(target) : undefined;
    if (existing?.equals(data)) { actions.push({ path: f.path, target, action: 'skip', reason: 'identical' }); continue; }
    // Another file in the target already holds this trace (or this trace's function).
    let other: string | undefined;
    if (f.kind === 'trace') {
      const rec = traces.get(f.path) as TraceRecord;
      // The file at the target holds a different goal: replacing it would lose that goal.
      const there = byFile.get(resolve(target));
      if (there && there.trace.goal_signature !== rec.trace.goal_signature) {
        conflicts.push(`${f.path}: ${target} holds another goal ("${there.trace.goal_text}"); rename or remove it first (not even --force replaces a different goal)`);
        continue;
      }
      const have = store.get(rec.trace.goal_signature);
      if (have && resolve(have.file) !== resolve(target)) {
        if (sameTrace(have.trace, rec.trace)) { actions.push({ path: f.path, target, action: 'skip', reason: `same trace as ${basename(have.file)}` }); continue; }
        other = have.file;
      }
    } else {
      // The signature the file itself declares (verified above), not the manifest's say-so.
      const sig = SIG_RE.exec(data.toString('utf8'))?.[1];
      for (const [file, installed] of installedFns) if (resolve(file) !== resolve(target) && installed === sig) other = file;
    }
    if ((existing || other) && !o.force) {
      conflicts.push(`${f.path}: ${existing ? `${target} exists with different content` : `${other} already holds this ${f.kind === 'trace' ? 'goal' : 'function'}`}`);
      continue;
    }
    if (other) removed.push(other);
    actions.push({ path: f.path, target, action: existing || other ? 'replace' : 'write' });
  }
  // A file this import writes is never also one it removes.
  const targets = new Set(actions.filter((a) => a.action !== 'skip').map((a) => resolve(a.target)));
  for (let i = removed.length - 1; i >= 0; i--) if (targets.has(resolve(removed[i] as string))) removed.splice(i, 1);
  if (conflicts.length > 0) {
    throw new LlmosError('ERR_TRACE_CONFLICT', `${path}: refused, nothing written; ${conflicts.length} file(s) differ from what is installed (use --force to replace them):\n  ${conflicts.join('\n  ')}`);
  }
  if (!o.dryRun) {
    mkdirSync(o.traces, { recursive: true });
    // Functions first: a running runtime uses one only once its trace (written after) matches it.
    const order = [...actions].sort((a, b) => Number(a.path.startsWith('traces/')) - Number(b.path.startsWith('traces/')));
    const writes = order.filter((a) => a.action !== 'skip');
    // All files staged and synced before any is renamed into place: a failure writes nothing.
    await writeFilesAtomic(writes.map((a) => ({ target: a.target, data: bundle.contents.get(a.path) as Buffer })), (i, target) => o.writeProgress?.(i + 1, writes.length, target));
    for (const f of removed) unlinkSync(f);
  }
  return { source_device: bundle.manifest.source_device, created: bundle.manifest.created, checksum: bundle.manifest.checksum, actions, removed };
}
