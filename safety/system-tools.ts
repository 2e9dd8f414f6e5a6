/**
 * The seed's system tools (Write, Read, Bash) for upstream traces. Off unless the config enables
 * them; when on, every path is confined to the workspace (symlinks included) and destructive
 * shell commands are refused before they reach a shell.
 */
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LlmosError } from '../lib/errors.js';

export interface SystemToolsOptions {
  workspace: string;
  bashTimeoutMs: number;
}

/** Patterns of commands that destroy data, devices or the running system. */
const DESTRUCTIVE: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /\bmkfs(\.[a-z0-9]+)?\b/, why: 'filesystem creation (mkfs)' },
  { pattern: /\bdd\b[^|;&]*\bof=\/dev\//, why: 'dd onto a device' },
  { pattern: /\b(shutdown|reboot|poweroff|halt)\b|\binit\s+[06]\b|\bsystemctl\s+(poweroff|reboot|halt|kexec)\b/, why: 'shutdown or reboot' },
  { pattern: /:\s*\(\s*\)\s*\{[^}]*:\s*\|\s*:\s*&[^}]*\}|\bfork\s*bomb\b/, why: 'fork bomb' },
  { pattern: />{1,2}\s*\/(dev|sys|boot|proc)\//, why: 'write redirected to /dev, /sys, /boot or /proc' },
  { pattern: /\btee\s+(-a\s+)?\/(dev|sys|boot|proc)\//, why: 'tee to /dev, /sys, /boot or /proc' },
  { pattern: /\b(cp|mv|install|ln)\b[^|;&]*\s\/(dev|sys|boot|proc)(\/|\s|$)/, why: 'copy or move into /dev, /sys, /boot or /proc' },
  { pattern: /\bchmod\s+(-[a-zA-Z]+\s+)*[0-7]*7{2,}\s+\/(\s|$)|\bchown\s+-R\s+\S+\s+\/(\s|$)/, why: 'permission change of the root directory' },
  { pattern: /\b(wipefs|shred|fdisk|parted|sfdisk)\b/, why: 'disk partitioning or wiping' },
  { pattern: /\bkill\s+-9\s+(-1|1)\b|\bkillall5\b/, why: 'killing every process' },
];

/** rm with both a recursive and a force flag, in any spelling (-rf, -r -f, --recursive --force). */
function recursiveForcedRm(segment: string): boolean {
  const words = segment.trim().split(/\s+/);
  const at = words.findIndex((w) => w === 'rm' || w.endsWith('/rm'));
  if (at < 0) return false;
  const flags = words.slice(at + 1).filter((w) => w.startsWith('-'));
  const recursive = flags.some((f) => f === '--recursive' || (/^-[a-zA-Z]+$/.test(f) && /[rR]/.test(f)));
  const force = flags.some((f) => f === '--force' || (/^-[a-zA-Z]+$/.test(f) && f.includes('f')));
  const rootTarget = words.slice(at + 1).some((w) => w === '/' || w === '/*');
  return (recursive && force) || (recursive && rootTarget);
}

export function destructiveReason(command: string): string | undefined {
  const normalized = command.replace(/\\\n/g, ' ');
  if (normalized.split(/;|&&|\|\||\||\n|`|\$\(/).some(recursiveForcedRm)) return 'recursive forced delete (rm -rf)';
  for (const { pattern, why } of DESTRUCTIVE) if (pattern.test(normalized)) return why;
  return undefined;
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
  const why = destructiveReason(command);
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
