/**
 * The crystallized functions of crystallized/*.ts, loaded at run time without a compiler. A file
 * is loaded only when it is trusted (trust.ts: exactly the generator's output for its trace, or
 * pinned by sha256); then types are stripped (Node's own stripper on Node >= 22.13, sucrase's
 * TypeScript transform before: pure JavaScript, and it supports Node 20), the result is checked to import nothing (acorn, a guard
 * against mistakes, not a sandbox), and imported from memory. Boot reads each file and checks
 * its trust; the code itself loads on first use (or in the background). A refused file
 * (ERR_CRYSTALLIZED_UNTRUSTED or ERR_CRYSTALLIZED_INVALID) is never imported, and its trace keeps
 * running as FOLLOWER. The directory is watched: added or changed files are used by the next
 * goal that matches.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, type FSWatcher, watch } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import type { ToolApi } from '../crystallized-api.js';
import { NO_TRUST, verifyTrusted, type TrustPolicy } from './trust.js';

export type CrystallizedFunction = (tools: ToolApi, params: Record<string, number>) => Promise<unknown>;

interface Entry {
  file: string;
  signature: string;
  traceHash: string | undefined;
  /** Loaded function, or the error that refused the file. */
  loaded?: { name: string; fn: CrystallizedFunction } | { error: LlmosError };
  loading?: Promise<void>;
}

export interface RegistryReport {
  file: string;
  signature?: string;
  ok: boolean;
  error?: string;
}

const require = createRequire(import.meta.url);

type Stripper = (source: string) => string;
let stripper: Stripper | undefined;

/**
 * Type stripping: Node's built-in when present, else sucrase (loaded once, on first use: boot pays
 * nothing for it). Sucrase keeps imports as written (keepUnusedImports), so the isolation check
 * sees what the file imports, as it does after Node's stripper; ES syntax is left alone.
 */
function stripTypes(source: string): string {
  if (!stripper) {
    const builtin = (process as unknown as { getBuiltinModule?: (m: string) => { stripTypeScriptTypes?: (s: string, o?: { mode?: string }) => string } | undefined })
      .getBuiltinModule?.('node:module')?.stripTypeScriptTypes;
    if (builtin) {
      stripper = (s) => builtin(s, { mode: 'strip' });
    } else {
      const sucrase = require('sucrase') as { transform: (s: string, o: { transforms: string[]; disableESTransforms: boolean; keepUnusedImports: boolean }) => { code: string } };
      stripper = (s) => sucrase.transform(s, { transforms: ['typescript'], disableESTransforms: true, keepUnusedImports: true }).code;
    }
  }
  return stripper(source);
}

interface AcornNode { type: string; [k: string]: unknown }

/** Refuses code that could reach anything but the ToolApi it is given; returns how many functions it exports. */
export function checkIsolated(js: string, file: string): number {
  const acorn = require('acorn') as { parse: (s: string, o: Record<string, unknown>) => AcornNode; };
  let ast: AcornNode;
  try {
    ast = acorn.parse(js, { ecmaVersion: 'latest', sourceType: 'module' });
  } catch (e) {
    throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: not valid code after stripping types: ${(e as Error).message}`);
  }
  const offences: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) { for (const n of node) visit(n); return; }
    if (!node || typeof node !== 'object' || typeof (node as AcornNode).type !== 'string') return;
    const n = node as AcornNode;
    // Names that are only property names (obj.process, { process: 1 }) are not references.
    if (n.type === 'MemberExpression' && !n['computed']) { visit(n['object']); return; }
    if (n.type === 'Property' && !n['computed']) { visit(n['value']); return; }
    if (n.type === 'ImportDeclaration') offences.push(`imports "${String((n['source'] as { value?: unknown })?.value)}"`);
    if (n.type === 'ImportExpression') offences.push('uses import()');
    if ((n.type === 'ExportNamedDeclaration' || n.type === 'ExportAllDeclaration') && n['source']) offences.push('re-exports another module');
    if (n.type === 'MetaProperty') offences.push('uses import.meta');
    if (n.type === 'Identifier' && ['require', 'process', 'globalThis', 'eval', 'Function'].includes(n['name'] as string)) offences.push(`uses ${String(n['name'])}`);
    for (const [k, v] of Object.entries(n)) if (k !== 'type' && typeof v === 'object') visit(v);
  };
  visit(ast);
  if (offences.length > 0) {
    throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: a crystallized function may import nothing but types and use nothing but its ToolApi; it ${[...new Set(offences)].join(', ')}`);
  }
  return exportedFunctions(ast);
}

/** Exported functions, counted from the syntax: declarations and function-valued consts. */
function exportedFunctions(ast: AcornNode): number {
  let n = 0;
  const isFn = (v: unknown): boolean => ['FunctionExpression', 'ArrowFunctionExpression'].includes((v as AcornNode | null)?.type ?? '');
  for (const stmt of (ast['body'] as AcornNode[]) ?? []) {
    if (stmt.type === 'ExportDefaultDeclaration') { if (isFn(stmt['declaration']) || (stmt['declaration'] as AcornNode).type === 'FunctionDeclaration') n++; continue; }
    if (stmt.type !== 'ExportNamedDeclaration') continue;
    const decl = stmt['declaration'] as AcornNode | null;
    if (!decl) { n += ((stmt['specifiers'] as unknown[]) ?? []).length; continue; }
    if (decl.type === 'FunctionDeclaration') n++;
    if (decl.type === 'VariableDeclaration') for (const d of decl['declarations'] as AcornNode[]) if (isFn(d['init'])) n++;
  }
  return n;
}

const SIGNATURE_RE = /^export const signature\s*=\s*'([0-9a-f]{16})';/m;
const HASH_RE = /^export const traceHash\s*=\s*'([0-9a-f]+)';/m;

/**
 * The full load check for one crystallized source: a signature export, valid code after type
 * stripping, isolation, and exactly one exported function. Used by the registry and by bundle
 * import (which must refuse a file before writing it). Throws ERR_CRYSTALLIZED_INVALID.
 */
export async function compileCrystallized(source: string, file: string, trust: TrustPolicy, expectedSignature?: string): Promise<{ name: string; fn: CrystallizedFunction; signature: string }> {
  // The exact text that is imported below is the text whose trust is checked here.
  const { signature, js } = checkCrystallizedSource(source, file, expectedSignature, trust);
  const mod = await import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`) as Record<string, unknown>;
  if (mod['signature'] !== signature) throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: its signature export does not match`);
  const fns = Object.entries(mod).filter(([, v]) => typeof v === 'function');
  if (fns.length !== 1) throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: must export exactly one function, found ${fns.length}`);
  const [name, fn] = fns[0] as [string, CrystallizedFunction];
  return { name, fn, signature };
}

/**
 * The same checks without running anything: for files that are only being inspected (bundle
 * import, `llmos traces validate`). Loading a file runs its top-level code, and the isolation
 * check is a guard against mistakes, not a sandbox: with a trust policy, a file that is neither
 * generated for its trace nor pinned is refused (ERR_CRYSTALLIZED_UNTRUSTED). A file that also
 * fails the static checks is reported with what they found (uses process, imports ...).
 */
export function checkCrystallizedSource(source: string, file: string, expectedSignature?: string, trust?: TrustPolicy): { signature: string; js: string } {
  if (trust === undefined) return staticCheck(source, file, expectedSignature);
  const signature = SIGNATURE_RE.exec(source)?.[1];
  let refusal: unknown;
  try {
    if (signature) verifyTrusted(source, file, signature, trust);
  } catch (e) {
    refusal = e;
  }
  // Static findings name the problem better; either way nothing is imported.
  const checked = staticCheck(source, file, expectedSignature);
  if (refusal !== undefined) throw refusal;
  return checked;
}

function staticCheck(source: string, file: string, expectedSignature?: string): { signature: string; js: string } {
  const signature = SIGNATURE_RE.exec(source)?.[1];
  if (!signature) throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: no \`export const signature = '<16 hex>'\`; not a crystallized function`);
  if (expectedSignature !== undefined && signature !== expectedSignature) throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: its signature export does not match`);
  let js: string;
  try {
    js = stripTypes(source);
  } catch (err) {
    // The stripper reports syntax errors as plain objects with a message and a position.
    const x = err as { message?: string; startLine?: number; startColumn?: number };
    throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}${x.startLine ? `:${x.startLine}:${x.startColumn ?? 0}` : ''}: not valid code: ${x.message ?? String(err)}`);
  }
  const functions = checkIsolated(js, file);
  if (functions !== 1) throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `${file}: must export exactly one function, found ${functions}`);
  return { signature, js };
}

export class CrystallizedRegistry {
  readonly dir: string;
  private readonly entries = new Map<string, Entry>();
  private watcher: FSWatcher | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly log: (msg: string) => void;
  private readonly onChange: (() => void) | undefined;
  private readonly trust: TrustPolicy;

  /** Without a trust policy nothing is trusted: every file is refused before it loads. */
  constructor(options: { dir: string; log?: (msg: string) => void; onChange?: () => void; trust?: TrustPolicy }) {
    this.dir = options.dir;
    this.trust = options.trust ?? NO_TRUST;
    this.log = options.log ?? (() => undefined);
    this.onChange = options.onChange;
  }

  /** Indexes the directory (reads signatures only). */
  scan(): RegistryReport[] {
    this.entries.clear();
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort().map((f) => this.index(f));
  }

  private index(fileName: string): RegistryReport {
    const file = join(this.dir, fileName);
    for (const [sig, e] of this.entries) if (e.file === file) this.entries.delete(sig);
    let source: string;
    try { source = readFileSync(file, 'utf8'); } catch { return { file, ok: false, error: 'cannot read' }; }
    const sig = SIGNATURE_RE.exec(source)?.[1];
    if (!sig) {
      const error = `${file}: no \`export const signature = '<16 hex>'\`; not a crystallized function`;
      this.log(`ERR_CRYSTALLIZED_INVALID: ${error}`);
      return { file, ok: false, error };
    }
    const entry: Entry = { file, signature: sig, traceHash: HASH_RE.exec(source)?.[1] };
    this.entries.set(sig, entry);
    try {
      // Refused at scan: an untrusted file is never offered to the dispatcher, let alone loaded.
      verifyTrusted(source, file, sig, this.trust);
    } catch (err) {
      let error = toLlmosError(err, 'ERR_CRYSTALLIZED_UNTRUSTED');
      try { checkCrystallizedSource(source, file, sig); } catch (e) { error = toLlmosError(e, 'ERR_CRYSTALLIZED_INVALID'); }
      entry.loaded = { error };
      return { file, signature: sig, ok: false, error: error.message };
    }
    return { file, signature: sig, ok: true };
  }

  /**
   * A usable function for this trace: present, not refused, and generated from the trace as it is
   * now (a function made from an older version of the trace is not used).
   */
  has(signature: string, currentTraceHash?: () => string): boolean {
    const e = this.entries.get(signature);
    if (!e || (e.loaded && 'error' in e.loaded)) return false;
    return currentTraceHash === undefined || e.traceHash === currentTraceHash();
  }

  fileOf(signature: string): string | undefined {
    return this.entries.get(signature)?.file;
  }

  /** Loads (once) and returns the function; throws ERR_CRYSTALLIZED_INVALID when the file is refused. */
  async get(signature: string): Promise<{ name: string; fn: CrystallizedFunction }> {
    const e = this.entries.get(signature);
    if (!e) throw new LlmosError('ERR_CRYSTALLIZED_INVALID', `no crystallized function for ${signature}`);
    if (!e.loaded) {
      e.loading ??= this.load(e);
      await e.loading;
    }
    const loaded = e.loaded as NonNullable<Entry['loaded']>;
    if ('error' in loaded) throw loaded.error;
    return loaded;
  }

  /** Loads everything indexed (after boot), reporting refused files; never throws. */
  async loadAll(): Promise<RegistryReport[]> {
    const out: RegistryReport[] = [];
    for (const e of this.entries.values()) {
      try {
        await this.get(e.signature);
        out.push({ file: e.file, signature: e.signature, ok: true });
      } catch (err) {
        out.push({ file: e.file, signature: e.signature, ok: false, error: toLlmosError(err).message });
      }
    }
    return out;
  }

  private async load(e: Entry): Promise<void> {
    try {
      e.loaded = await compileCrystallized(readFileSync(e.file, 'utf8'), e.file, this.trust, e.signature);
    } catch (err) {
      const error = toLlmosError(err, 'ERR_CRYSTALLIZED_INVALID');
      e.loaded = { error: error.code === 'ERR_CRYSTALLIZED_INVALID' || error.code === 'ERR_CRYSTALLIZED_UNTRUSTED' ? error : new LlmosError('ERR_CRYSTALLIZED_INVALID', `${e.file}: failed to load: ${error.message}`) };
      this.log(`${(e.loaded.error as LlmosError).code}: ${(e.loaded.error as LlmosError).message}; its trace runs as FOLLOWER`);
    }
  }

  /** Re-indexes a file added, changed or removed; changes take effect for the next goal. */
  refresh(fileName: string): void {
    const file = join(this.dir, fileName);
    if (!existsSync(file)) {
      for (const [sig, e] of this.entries) if (e.file === file) this.entries.delete(sig);
    } else {
      const r = this.index(fileName);
      if (r.ok && r.signature) void this.get(r.signature).catch(() => undefined);
    }
    this.onChange?.();
  }

  /** Hot reload: watch the directory (debounced per file). */
  watch(): void {
    if (this.watcher) return;
    try {
      // Watch from the start even when nothing is crystallized yet: the first file must hot-load.
      mkdirSync(this.dir, { recursive: true });
      this.watcher = watch(this.dir, (_event, name) => {
        if (!name || !name.endsWith('.ts') || name.endsWith('.d.ts')) return;
        clearTimeout(this.timers.get(name));
        this.timers.set(name, setTimeout(() => { this.timers.delete(name); this.refresh(name); }, 100));
      });
      this.watcher.unref();
    } catch (e) {
      this.log(`cannot watch ${this.dir}: ${(e as Error).message}; new crystallized files load at the next start`);
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
