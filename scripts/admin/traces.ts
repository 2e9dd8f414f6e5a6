/** `llmos traces list|show|validate|import|rm`: the learned traces (L3 memory) of a board. */
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import { parseYaml } from '../../lib/yaml-file.js';
import type { RuntimeConfig } from '../../runtime/config.js';
import { traceHash } from '../../runtime/crystallize/codegen.js';
import { checkCrystallizedSource, CrystallizedRegistry } from '../../runtime/crystallize/registry.js';
import { trustPolicy } from '../../runtime/crystallize/trust.js';
import { findTrace, readImportFile, sameTrace, type ParsedImport } from '../lib/trace-import.js';
import { parseTraceDocument, slug, TraceStore } from '../../runtime/traces/store.js';
import { traceStatsFile } from '../../runtime/traces/stats.js';
import type { Trace, TraceRecord } from '../../runtime/traces/types.js';
import { COMMON_HELP, configFrom, fmtDate, fmtRate, parseSub, progress, shorten, table, usage, type Io } from './common.js';

export const TRACES_HELP = `llmos traces: list, show, check, import and remove learned traces.

Usage:
  llmos traces list                       table: file, goal, usage, success, mode, last used
  llmos traces show <name|signature|file> one trace: summary and its file
  llmos traces validate [dir]             check every file (default: the traces and crystallized
                                          directories); exit 1 if any is bad
  llmos traces import [--dry-run] <file...>
                                          import core YAML, upstream edge YAML or markdown traces;
                                          all files are checked first, and nothing is written if
                                          any is invalid or would replace a different trace
  llmos traces rm --yes <name...>         delete traces (and their crystallized functions)

${COMMON_HELP}`;

interface Loaded { cfg: RuntimeConfig; store: TraceStore; registry: CrystallizedRegistry; errors: Array<{ file: string; message: string }> }

function load(cfg: RuntimeConfig): Loaded {
  // The merged view: the files' statistics plus the runs the owner counted in the state directory.
  const store = new TraceStore({ dir: cfg.paths.traces, statsFile: traceStatsFile(cfg.paths.state) });
  const report = store.load();
  const registry = new CrystallizedRegistry({ dir: cfg.paths.crystallized, trust: trustPolicy(cfg.crystallization.trusted_sha256, (sig) => store.get(sig)?.trace) });
  registry.scan();
  return { cfg, store, registry, errors: report.errors.map((e) => ({ file: e.file, message: e.message })) };
}

/** How the trace runs now: by its crystallized function, or replayed (and whether it qualifies). */
function modeOf(l: Loaded, t: Trace): { mode: 'CRYSTALLIZED' | 'FOLLOWER'; hint: string; crystallized: { file: string; current: boolean } | null } {
  const file = l.registry.fileOf(t.goal_signature);
  const current = l.registry.has(t.goal_signature, () => traceHash(t));
  const c = l.cfg.crystallization;
  const qualifies = t.usage_count >= c.min_usage && t.success_rate >= c.min_success;
  if (file && current) return { mode: 'CRYSTALLIZED', hint: 'crystallized', crystallized: { file, current } };
  const hint = file ? 'follower (fn stale)' : qualifies ? 'follower (ready to crystallize)' : 'follower';
  return { mode: 'FOLLOWER', hint, crystallized: file ? { file, current } : null };
}

function summary(l: Loaded, r: TraceRecord): Record<string, unknown> {
  const t = r.trace;
  const m = modeOf(l, t);
  return {
    name: basename(r.file), file: r.file, format: r.format, goal_signature: t.goal_signature, goal_text: t.goal_text,
    usage_count: t.usage_count, success_rate: t.success_rate, last_used: t.last_used ?? null, recent: l.store.runStats(t.goal_signature)?.recent ?? '', origin: t.origin ?? null,
    mode: m.mode, hint: m.hint, crystallized: m.crystallized,
  };
}

export async function tracesCommand(argv: readonly string[], io: Io): Promise<number> {
  // Flags may come before or after the subcommand.
  const { values, args: all } = parseSub(argv, { yes: { type: 'boolean' }, 'dry-run': { type: 'boolean' } });
  const [sub, ...args] = all;
  if (values['help'] || sub === undefined || sub === 'help') { io.out(`${TRACES_HELP}\n`); return values['help'] || sub === 'help' ? 0 : 2; }
  for (const f of ['yes', 'dry-run'] as const) {
    const allowed = f === 'yes' ? 'rm' : 'import';
    if (values[f] && sub !== allowed) throw usage(`--${f} applies to "traces ${allowed}" only`);
  }
  const json = values['json'] === true;
  const cfg = configFrom(values, io.cwd);
  switch (sub) {
    case 'list': return list(load(cfg), json, io);
    case 'show': return show(load(cfg), args, json, io);
    case 'validate': return validate(cfg, args, json, io);
    case 'import': return importTraces(cfg, args, values['dry-run'] === true, json, io);
    case 'rm': return remove(load(cfg), args, values['yes'] === true, json, io);
    default: throw usage(`unknown subcommand "traces ${sub}" (list, show, validate, import, rm)`);
  }
}

function list(l: Loaded, json: boolean, io: Io): number {
  const rows = l.store.all().sort((a, b) => a.file.localeCompare(b.file)).map((r) => summary(l, r));
  if (json) {
    io.out(`${JSON.stringify({ dir: l.store.dir, traces: rows, errors: l.errors })}\n`);
    return 0;
  }
  io.out(`${table(['name', 'goal', 'usage', 'success', 'mode', 'last used'], rows.map((r) => [
    String(r['name']), shorten(String(r['goal_text']), 40), String(r['usage_count']), fmtRate(r['success_rate'] as number), String(r['hint']), fmtDate(r['last_used'] as string | null),
  ]))}\n${rows.length} trace${rows.length === 1 ? '' : 's'} in ${l.store.dir}\n`);
  if (l.errors.length) io.err(`llmos: ${l.errors.length} file(s) failed to load; run "llmos traces validate" for details\n`);
  return 0;
}

function show(l: Loaded, args: string[], json: boolean, io: Io): number {
  if (args.length !== 1) throw usage('traces show takes one trace: its file name, goal_signature or goal text');
  const key = args[0] as string;
  let rec = findTrace(l.store.all(), key);
  if (!rec && existsSync(key)) {
    const p = readImportFile(resolve(io.cwd, key));
    rec = { trace: p.trace, file: resolve(io.cwd, key), format: p.format === 'edge' ? 'edge' : 'core' };
  }
  if (!rec) {
    const broken = l.errors.find((e) => basename(e.file) === key || basename(e.file).replace(/\.ya?ml$/i, '') === key);
    if (broken) throw new LlmosError('ERR_TRACE_INVALID', broken.message);
    throw new LlmosError('ERR_TRACE_NOT_FOUND', `no trace "${key}" in ${l.store.dir} (try "llmos traces list")`);
  }
  const s = summary(l, rec);
  if (json) { io.out(`${JSON.stringify({ ...s, trace: rec.trace })}\n`); return 0; }
  const t = rec.trace;
  const lines = [
    `goal:       ${t.goal_text}`,
    `signature:  ${t.goal_signature}`,
    `file:       ${rec.file} (${rec.format} format)`,
    `usage:      ${t.usage_count} runs, ${fmtRate(t.success_rate)} success, last used ${fmtDate(t.last_used)}`,
    ...(s['recent'] ? [`recent:     ${String(s['recent'])} (1 success, 0 failure; newest last)`] : []),
    `mode:       ${String(s['hint'])}${s['crystallized'] ? ` (${(s['crystallized'] as { file: string }).file})` : ''}`,
    `steps:      ${t.tool_calls.map((c) => c.name).join(', ')}`,
  ];
  if (t.parameters && Object.keys(t.parameters).length) lines.push(`parameters: ${Object.keys(t.parameters).join(', ')}`);
  io.out(`${lines.join('\n')}\n---\n${readFileSync(rec.file, 'utf8').trimEnd()}\n`);
  return 0;
}

interface FileCheck { file: string; ok: boolean; kind: 'trace' | 'crystallized'; signature?: string; error?: { code: string; message: string }; warnings?: string[] }

async function validate(cfg: RuntimeConfig, args: string[], json: boolean, io: Io): Promise<number> {
  if (args.length > 1) throw usage('traces validate takes at most one directory');
  const dir = args.length === 1 ? resolve(io.cwd, args[0] as string) : cfg.paths.traces;
  if (!existsSync(dir)) throw new LlmosError('ERR_CONFIG_NOT_FOUND', `${dir}: no such directory`);
  const names = readdirSync(dir).filter((n) => /\.(ya?ml|md|markdown)$/i.test(n) && !n.startsWith('.')).sort();
  const cdir = args.length === 1 ? undefined : cfg.paths.crystallized;
  const cnames = cdir && existsSync(cdir) ? readdirSync(cdir).filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts')).sort() : [];
  const tick = progress(io, 'validate');
  const total = names.length + cnames.length;
  const results: FileCheck[] = [];
  const bySig = new Map<string, string>();
  const traces = new Map<string, Trace>();
  for (const [i, name] of names.entries()) {
    tick(i + 1, total, name);
    const file = join(dir, name);
    try {
      let warnings: string[] = [];
      let sig: string;
      let trace: Trace;
      if (/\.(md|markdown)$/i.test(name)) {
        trace = readImportFile(file).trace;
      } else {
        const parsed = parseTraceDocument(parseYaml(readFileSync(file, 'utf8'), file, 'ERR_TRACE_INVALID'), file);
        warnings = parsed.warnings.map((w) => w.message);
        trace = parsed.record.trace;
      }
      sig = trace.goal_signature;
      const dup = bySig.get(sig);
      if (dup) throw new LlmosError('ERR_TRACE_INVALID', `${file}: same goal as ${dup} (signature ${sig}); the runtime would ignore this file`);
      bySig.set(sig, name);
      traces.set(sig, trace);
      results.push({ file, ok: true, kind: 'trace', signature: sig, ...(warnings.length ? { warnings } : {}) });
    } catch (e) {
      const err = toLlmosError(e, 'ERR_TRACE_INVALID');
      results.push({ file, ok: false, kind: 'trace', error: { code: err.code, message: err.message } });
    }
  }
  for (const [i, name] of cnames.entries()) {
    tick(names.length + i + 1, total, name);
    const file = join(cdir as string, name);
    try {
      // The loader's own decision, nothing imported: generated for its trace here, or pinned.
      const { signature } = checkCrystallizedSource(readFileSync(file, 'utf8'), file, undefined, trustPolicy(cfg.crystallization.trusted_sha256, (s) => traces.get(s)));
      const warnings = bySig.has(signature) ? [] : [`${file}: no trace with signature ${signature}; the function is never used`];
      results.push({ file, ok: true, kind: 'crystallized', signature, ...(warnings.length ? { warnings } : {}) });
    } catch (e) {
      const err = toLlmosError(e, 'ERR_CRYSTALLIZED_INVALID');
      results.push({ file, ok: false, kind: 'crystallized', error: { code: err.code, message: err.message } });
    }
  }
  const bad = results.filter((r) => !r.ok).length;
  if (json) {
    io.out(`${JSON.stringify({ dir, ok: bad === 0, checked: results.length, invalid: bad, files: results })}\n`);
  } else {
    for (const r of results) {
      io.out(r.ok ? `ok    ${basename(r.file)}\n` : `FAIL  ${basename(r.file)}\n      ${r.error?.code}: ${r.error?.message}\n`);
      for (const w of r.warnings ?? []) io.out(`      warning: ${w}\n`);
    }
    io.out(`${results.length - bad} ok, ${bad} invalid (${dir})\n`);
  }
  return bad === 0 ? 0 : 1;
}

async function importTraces(cfg: RuntimeConfig, args: string[], dryRun: boolean, json: boolean, io: Io): Promise<number> {
  if (args.length === 0) throw usage('traces import needs at least one file (.yaml, .yml, .json or .md)');
  const tick = progress(io, 'import: checking');
  const parsed: ParsedImport[] = [];
  const errors: string[] = [];
  for (const [i, f] of args.entries()) {
    tick(i + 1, args.length, f);
    try { parsed.push(readImportFile(resolve(io.cwd, f))); } catch (e) { const err = toLlmosError(e, 'ERR_TRACE_INVALID'); errors.push(`${err.code}: ${err.message}`); }
  }
  if (errors.length) throw new LlmosError('ERR_TRACE_INVALID', `refused, nothing written; ${errors.length} file(s) invalid:\n  ${errors.join('\n  ')}`);
  const store = new TraceStore({ dir: cfg.paths.traces });
  store.load();
  const plan: Array<{ p: ParsedImport; action: 'write' | 'skip'; file: string; reason?: string }> = [];
  const conflicts: string[] = [];
  const planned = new Map<string, ParsedImport>();
  for (const p of parsed) {
    const sig = p.trace.goal_signature;
    const have = store.get(sig);
    const earlier = planned.get(sig);
    const target = join(store.dir, `${slug(p.trace.goal_text)}-${sig.slice(0, 8)}.yaml`);
    if (have || earlier) {
      const other = have ? have.trace : (earlier as ParsedImport).trace;
      const where = have ? have.file : (earlier as ParsedImport).source;
      if (sameTrace(other, p.trace)) plan.push({ p, action: 'skip', file: have?.file ?? target, reason: `same trace as ${basename(where)}` });
      else conflicts.push(`${p.source}: goal "${p.trace.goal_text}" is already ${have ? 'installed' : 'imported'} as ${where} with different steps`);
      continue;
    }
    if (existsSync(target)) { conflicts.push(`${p.source}: ${target} exists (and does not load as this trace)`); continue; }
    planned.set(sig, p);
    plan.push({ p, action: 'write', file: target });
  }
  if (conflicts.length) throw new LlmosError('ERR_TRACE_CONFLICT', `refused, nothing written; an import never replaces a different trace (remove it first with "llmos traces rm"):\n  ${conflicts.join('\n  ')}`);
  const at = new Date().toISOString();
  const writes = plan.filter((x) => x.action === 'write');
  const wtick = progress(io, 'import: writing');
  if (!dryRun) {
    for (const [i, x] of writes.entries()) {
      wtick(i + 1, writes.length, x.file);
      await store.save(x.p.trace, `Imported by llmos from ${basename(x.p.source)} (${x.p.format} format) on ${at}.`);
    }
  }
  const rows = plan.map((x) => ({ source: x.p.source, format: x.p.format, goal_signature: x.p.trace.goal_signature, goal_text: x.p.trace.goal_text, file: x.file, action: x.action, ...(x.reason ? { reason: x.reason } : {}) }));
  if (json) { io.out(`${JSON.stringify({ dir: store.dir, dry_run: dryRun, written: writes.length, skipped: plan.length - writes.length, files: rows })}\n`); return 0; }
  io.out(`${table(['source', 'format', 'goal', 'result'], rows.map((r) => [basename(r.source), r.format, shorten(r.goal_text, 40), r.action === 'write' ? `${dryRun ? 'would write' : 'wrote'} ${basename(r.file)}` : `skipped: ${r.reason}`]))}\n`);
  io.out(`${dryRun ? 'would import' : 'imported'} ${writes.length}, skipped ${plan.length - writes.length} (${store.dir})\n`);
  return 0;
}

function remove(l: Loaded, args: string[], yes: boolean, json: boolean, io: Io): number {
  if (args.length === 0) throw usage('traces rm needs the trace to remove (file name, goal_signature or goal text)');
  if (!yes) throw usage('traces rm deletes files: add --yes to confirm');
  const files: string[] = [];
  for (const key of args) {
    const rec = findTrace(l.store.all(), key);
    if (rec) {
      files.push(rec.file);
      const fn = l.registry.fileOf(rec.trace.goal_signature);
      if (fn) files.push(fn);
      continue;
    }
    // A file that does not load (so has no record) can be removed by its name.
    const broken = l.errors.find((e) => basename(e.file) === key);
    if (broken) { files.push(broken.file); continue; }
    throw new LlmosError('ERR_TRACE_NOT_FOUND', `no trace "${key}" in ${l.store.dir}; nothing removed`);
  }
  // Two names for one trace ("wave hello" and wave-hello) remove it once.
  const unique = [...new Set(files)];
  for (const f of unique) unlinkSync(f);
  if (json) io.out(`${JSON.stringify({ removed: unique })}\n`);
  else io.out(unique.map((f) => `removed ${f}\n`).join(''));
  return 0;
}
