#!/usr/bin/env node
/**
 * crystallize: turn a trace into a TypeScript function in crystallized/ now, whatever its usage
 * count. `--dry-run` prints the code and writes nothing.
 *
 *   node dist/scripts/crystallize.js --dry-run "drive in a square"
 *   node dist/scripts/crystallize.js 4334f89dc3006a1e
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertValid } from '../lib/validate.js';
import { yamlLib } from '../lib/yaml-file.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { exitStatusOf, LlmosError, toLlmosError } from '../lib/errors.js';
import { loadConfig } from '../runtime/config.js';
import { checkCrystallizedSource } from '../runtime/crystallize/registry.js';
import { sha256Hex } from '../runtime/crystallize/trust.js';
import { LLMOS } from '../runtime/llmos.js';
import type { OwnerLock } from '../runtime/owner/lock.js';
import { COMMON_OPTIONS, overridesFrom, parseCli, usageError, type ParsedCli } from './cli.js';
import { ownOrForward } from './owner-start.js';
import { loggerFor, processIo, type MainIo } from './main-io.js';

const HELP = `crystallize: generate crystallized/<name>.ts from a trace.

Usage:
  crystallize [options] <goal_signature | "goal text">      (also: llmos crystallize ...)
  crystallize --config FILE --trust CRYSTALLIZED_FILE
Options:
  --dry-run            print the generated code, write nothing
  --trust FILE         pin FILE's sha256 in the configuration (crystallization.trusted_sha256 of
                       --config FILE). Only generated files and pinned files are ever loaded; a
                       pinned hand-written function runs with the runtime's full privileges (it is
                       trusted code, not sandboxed). Any later edit of FILE unpins it.
  --config FILE, --traces DIR, --state DIR, --board FILE|sim   as for run-follower
  --crystallized DIR   where functions are written (default ./crystallized)
  --json               print {trace, function, file, written, code} as JSON`;

export const CRYSTALLIZE_OPTIONS = { ...COMMON_OPTIONS, 'dry-run': { type: 'boolean' }, crystallized: { type: 'string' }, trust: { type: 'string' } } as const;

/** Crystallizes one trace in a booted runtime (this process's, or the owner's for a forwarded command). */
export async function crystallizeIn(os: LLMOS, values: ParsedCli['values'], goals: readonly string[], out: (s: string) => void): Promise<void> {
  if (goals.length !== 1) throw new LlmosError('ERR_USAGE', 'give one trace: its goal_signature or its goal text (quoted)');
  const target = goals[0] as string;
  const signature = /^[0-9a-f]{16}$/.test(target) ? target : os.decide(target).candidate?.trace.goal_signature;
  const decision = /^[0-9a-f]{16}$/.test(target) ? undefined : os.decide(target);
  if (!signature || (decision && decision.mode !== 'FOLLOWER' && decision.mode !== 'CRYSTALLIZED')) {
    throw new LlmosError('ERR_TRACE_NOT_FOUND', `no trace serves "${target}"${decision?.nearest.length ? `; nearest: ${decision.nearest.map((n) => `"${n.goal_text}" (${n.score})`).join(', ')}` : ''}`);
  }
  const r = await os.crystallizer.crystallize(signature, { dryRun: values['dry-run'] === true });
  if (values['json']) out(`${JSON.stringify({ trace: signature, function: r.name, file: r.path, written: r.written, code: r.code })}\n`);
  else out(r.written ? `crystallized ${signature} -> ${r.path} (${r.name})\n` : r.code);
}

export function crystallizeExitCode(code: string): number {
  return exitStatusOf(code);
}

export async function crystallizeCommand(argv: readonly string[], io: MainIo = processIo): Promise<number> {
  const out = (s: string): void => io.out(s);
  let os: LLMOS | undefined;
  let lock: OwnerLock | undefined;
  try {
    const { values, goals } = parseCli(argv, CRYSTALLIZE_OPTIONS);
    if (values['help']) { out(`${HELP}\n`); return 0; }
    if (typeof values['trust'] === 'string') {
      if (goals.length > 0) throw new LlmosError('ERR_USAGE', '--trust takes a file and no goal');
      if (typeof values['config'] !== 'string') throw new LlmosError('ERR_USAGE', '--trust needs --config FILE: the allow-list lives in the configuration');
      const r = await pinFile(resolve(io.cwd, values['config']), resolve(io.cwd, values['trust']));
      if (values['json']) out(`${JSON.stringify(r)}\n`);
      else out(r.added ? `trusted ${r.file} (sha256 ${r.sha256}) in ${r.config}\n` : `${r.file} (sha256 ${r.sha256}) was already trusted in ${r.config}\n`);
      return 0;
    }
    if (goals.length !== 1) throw new LlmosError('ERR_USAGE', 'give one trace: its goal_signature or its goal text (quoted)');
    const overrides = overridesFrom(values);
    if (typeof values['crystallized'] === 'string') overrides.paths = { ...overrides.paths, crystallized: values['crystallized'] };
    const config = loadConfig({ ...(typeof values['config'] === 'string' ? { file: values['config'] } : {}), overrides: { ...overrides, logging: { level: 'warn' } }, cwd: io.cwd });
    // While a runtime owns the board, it crystallizes (its registry and trace store stay current).
    const owner = await ownOrForward('crystallize', argv, config.paths.state, values['standalone'] ? 'standalone' : 'auto', io);
    if ('code' in owner) return owner.code;
    lock = owner.lock;
    os = new LLMOS({ config, ...loggerFor(io, config) });
    await os.boot();
    await crystallizeIn(os, values, goals, out);
    return 0;
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`crystallize: ${usageError(err).message}\n`);
    return crystallizeExitCode(err.code);
  } finally {
    await os?.shutdown();
    lock?.release();
  }
}

/** Adds a file's sha256 to crystallization.trusted_sha256 of a config file, keeping its comments. */
async function pinFile(configFile: string, file: string): Promise<{ file: string; sha256: string; config: string; added: boolean }> {
  const path = resolve(file);
  let source: string;
  try { source = readFileSync(path, 'utf8'); } catch (e) { throw new LlmosError('ERR_CONFIG_NOT_FOUND', `${path}: cannot read: ${(e as Error).message}`); }
  // Only a well-formed crystallized file (signature, one function, no imports) can be pinned.
  checkCrystallizedSource(source, path);
  const sha256 = sha256Hex(source);
  const config = resolve(configFile);
  loadConfig({ file: config });
  // yaml loads on first use (lib/yaml-file.ts): this module is in every runtime bundle.
  const { parse, parseDocument } = yamlLib();
  const doc = parseDocument(readFileSync(config, 'utf8'));
  const list = doc.getIn(['crystallization', 'trusted_sha256']);
  const current = list && typeof (list as { toJSON?: () => unknown }).toJSON === 'function' ? (list as { toJSON: () => unknown }).toJSON() : [];
  const hashes = Array.isArray(current) ? current.map(String) : [];
  if (hashes.includes(sha256)) return { file: path, sha256, config, added: false };
  doc.setIn(['crystallization', 'trusted_sha256'], [...hashes, sha256]);
  const text = doc.toString();
  // The result must still be a valid configuration before it replaces the file.
  assertValid('config', parse(text) as unknown, config, 'ERR_CONFIG_INVALID');
  await writeFileAtomic(config, text);
  return { file: path, sha256, config, added: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  crystallizeCommand(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
