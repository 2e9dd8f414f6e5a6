/** `llmos bundle export|import`: copy traces and crystallized functions between boards. */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { traceStatsFile } from '../../runtime/traces/stats.js';
import { containerOf, createBundle, importBundle, writeBundle } from '../lib/bundle.js';
import { COMMON_HELP, configFrom, parseSub, progress, shorten, table, usage, type Io } from './common.js';

export const BUNDLE_HELP = `llmos bundle: export and import trace bundles (traces + crystallized functions + manifest).

Usage:
  llmos bundle export <out.json|out.tar|dir> [--only NAME[,NAME...]]
      valid traces of --traces (all, or the named ones: file, goal_signature or goal text) and
      their crystallized functions; each file with its sha256, plus a total checksum
  llmos bundle import <bundle> [--force] [--dry-run]
      checks the manifest, every checksum, every trace (schema) and every crystallized function
      (isolation check) before writing anything; identical files are skipped; a different
      existing file is refused unless --force

${COMMON_HELP}`;

export async function bundleCommand(argv: readonly string[], io: Io): Promise<number> {
  // Flags may come before or after the subcommand.
  const { values, args: all } = parseSub(argv, { only: { type: 'string', multiple: true }, force: { type: 'boolean' }, 'dry-run': { type: 'boolean' } });
  const [sub, ...args] = all;
  if (values['help'] || sub === undefined) { io.out(`${BUNDLE_HELP}\n`); return values['help'] ? 0 : 2; }
  const json = values['json'] === true;
  if (sub === 'export') {
    if (values['force'] || values['dry-run']) throw usage(`--${values['force'] ? 'force' : 'dry-run'} applies to "bundle import" only`);
    if (args.length !== 1) throw usage('bundle export takes one output: out.json, out.tar or a directory');
    const cfg = configFrom(values, io.cwd);
    const only = ((values['only'] as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
    // An empty --only (an unset shell variable) must not mean "everything".
    if (values['only'] !== undefined && only.length === 0) throw usage('--only names no trace (empty value)');
    if (!existsSync(cfg.paths.traces)) throw usage(`no traces directory ${cfg.paths.traces} (check --traces or the config's paths.traces)`);
    const { bundle, skipped } = await createBundle({ traces: cfg.paths.traces, crystallized: cfg.paths.crystallized, device: cfg.device_id, trustedSha256: cfg.crystallization.trusted_sha256 ?? [], only, statsFile: traceStatsFile(cfg.paths.state), progress: progress(io, 'export: reading') });
    for (const s of skipped) io.err(`llmos: skipped ${s.file}: ${s.reason}\n`);
    const out = resolve(io.cwd, args[0] as string);
    const kind = await writeBundle(bundle, out);
    const m = bundle.manifest;
    const counts = { traces: m.files.filter((f) => f.kind === 'trace').length, crystallized: m.files.filter((f) => f.kind === 'crystallized').length };
    if (json) io.out(`${JSON.stringify({ out, container: kind, ...counts, checksum: m.checksum, source_device: m.source_device, skipped })}\n`);
    else io.out(`exported ${counts.traces} traces and ${counts.crystallized} crystallized functions to ${out} (${kind})\nchecksum ${m.checksum}\n`);
    return 0;
  }
  if (sub === 'import') {
    if (values['only']) throw usage('--only applies to "bundle export" only');
    if (args.length !== 1) throw usage('bundle import takes one bundle: a .json, a .tar or a directory');
    const cfg = configFrom(values, io.cwd);
    const src = args[0] as string;
    const r = await importBundle(src, { traces: cfg.paths.traces, crystallized: cfg.paths.crystallized, force: values['force'] === true, trustedSha256: cfg.crystallization.trusted_sha256 ?? [], dryRun: values['dry-run'] === true, progress: progress(io, 'import: checking'), writeProgress: progress(io, 'import: writing') });
    if (json) { io.out(`${JSON.stringify({ bundle: resolve(io.cwd, src), container: containerOf(src), dry_run: values['dry-run'] === true, ...r })}\n`); return 0; }
    const verb = values['dry-run'] ? 'would ' : '';
    io.out(`${table(['file', 'result'], r.actions.map((a) => [a.path, a.action === 'skip' ? `skipped (${a.reason})` : `${verb}${a.action === 'write' ? 'write' : 'replace'} ${shorten(a.target, 60)}`]))}\n`);
    for (const f of r.removed) io.out(`${verb}remove ${f}\n`);
    const n = r.actions.filter((a) => a.action !== 'skip').length;
    io.out(`bundle ${basename(src)} from ${r.source_device} (${r.created}): ${verb}${verb ? 'install' : 'installed'} ${n}, skipped ${r.actions.length - n}\n`);
    return 0;
  }
  throw usage(`unknown subcommand "bundle ${sub}" (export, import)`);
}
