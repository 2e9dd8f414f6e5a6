/**
 * The seed's system tools (Write, Read, Bash) for upstream traces. Off unless the config enables
 * them; when on, every path is confined to the workspace (symlinks included) and destructive
 * shell commands are refused before they reach a shell.
 */
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LlmosError } from '../lib/errors.js';
import { commandProblem } from './shell-policy.js';

export interface SystemToolsOptions {
  workspace: string;
  bashTimeoutMs: number;
}

/**
 * Why a shell command is refused (undefined: it may run). The command is parsed as a shell
 * would parse it and every word and redirection is checked (safety/shell-policy.ts); quoting
 * (`r""m -rf /`) changes nothing.
 */
export function destructiveReason(command: string, workspace?: string): string | undefined {
  return commandProblem(command, workspace);
}

/** Resolves a path inside the workspace or throws; symlinks that lead outside are refused too. */
export async function confinePath(workspace: string, requested: string): Promise<string> {
  await mkdir(workspace, { recursive: true });
  const root = await realpath(workspace);
  const target = isAbsolute(requested) ? resolve(requested) : resolve(root, requested);
  const inside = (p: string): boolean => { const r = relative(root, p); return r === '' || (!r.startsWith('..') && !isAbsolute(r)); };
  if (!inside(target)) {
    throw new LlmosError('ERR_SAFETY_SYSTEM_TOOL', `path "${requested}" is outside the workspace ${root}`);
  }
  // The deepest existing ancestor must also resolve inside (no escape through a symlink).
  let probe = target;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!inside(real)) throw new LlmosError('ERR_SAFETY_SYSTEM_TOOL', `path "${requested}" leaves the workspace through a symbolic link`);
      break;
    } catch (e) {
      if (e instanceof LlmosError) throw e;
      const parent = dirname(probe);
      if (parent === probe) break;
      probe = parent;
    }
  }
  return target;
}

export async function systemWrite(opts: SystemToolsOptions, filePath: string, content: string): Promise<{ path: string; bytes: number }> {
  const path = await confinePath(opts.workspace, filePath);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return { path: relative(opts.workspace, path), bytes: Buffer.byteLength(content) };
}

export async function systemRead(opts: SystemToolsOptions, filePath: string): Promise<string> {
  const path = await confinePath(opts.workspace, filePath);
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new LlmosError('ERR_STEP_FAILED', `cannot read ${filePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export interface BashResult { exit_code: number; stdout: string; stderr: string }

export async function systemBash(opts: SystemToolsOptions, command: string, timeoutS: number | undefined, signal?: AbortSignal): Promise<BashResult> {
  const why = destructiveReason(command, opts.workspace);
  if (why) throw new LlmosError('ERR_SAFETY_SYSTEM_TOOL', `command blocked: ${why}: ${command.slice(0, 120)}`);
  await mkdir(opts.workspace, { recursive: true });
  const timeout = timeoutS !== undefined ? Math.min(timeoutS * 1000, opts.bashTimeoutMs) : opts.bashTimeoutMs;
  const { execFile } = await import('node:child_process');
  return new Promise<BashResult>((resolvePromise) => {
    execFile('/bin/sh', ['-c', command], { cwd: opts.workspace, timeout, maxBuffer: 1 << 20, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolvePromise({ exit_code: code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
