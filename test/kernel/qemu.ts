/**
 * Boots the gpio-sim test guest (see setup.sh and init.sh next to this file): Debian's kernel in
 * QEMU (TCG, one vCPU), the host's root read-only over virtio-9p, a writable 9p share for the
 * results. The guest runs one shell script from that share and powers off; this module bounds it
 * with a timeout and never leaves a QEMU process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath, packageRoot } from '../../lib/paths.js';

export interface GuestImage { kernel: string; initrd: string; kver: string }

export type Prepared =
  | { ok: true; image: GuestImage; log: string; ms: number }
  /** missing: the tools or packages are not there (a local machine may skip); else a failed build. */
  | { ok: false; missing: boolean; reason: string };

/** Runs test/kernel/setup.sh (builds on the first run, checks on the next ones). */
export function prepareGuest(options: { install?: boolean; timeoutMs?: number } = {}): Promise<Prepared> {
  const script = packagePath('test', 'kernel', 'setup.sh');
  const started = Date.now();
  return new Promise((resolve) => {
    if (!existsSync(script)) { resolve({ ok: false, missing: false, reason: `${script} is missing` }); return; }
    const child = spawn('bash', [script, ...(options.install ? ['--install'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (e) => { clearTimeout(timer); resolve({ ok: false, missing: true, reason: `cannot run bash: ${e.message}` }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const vars = new Map(out.split('\n').map((l) => l.split('=', 2) as [string, string]).filter((kv) => kv.length === 2));
      const kernel = vars.get('GPIO_SIM_KERNEL');
      const initrd = vars.get('GPIO_SIM_INITRD');
      const kver = vars.get('GPIO_SIM_KVER');
      if (code === 0 && kernel && initrd && kver) { resolve({ ok: true, image: { kernel, initrd, kver }, log: err, ms: Date.now() - started }); return; }
      const why = signal ? `killed by ${signal} (timeout)` : `exit ${String(code)}`;
      resolve({ ok: false, missing: code === 3, reason: `test/kernel/setup.sh: ${why}: ${err.trim() || out.trim()}` });
    });
  });
}

export interface GuestRun {
  /** Exit status of the guest's script, or null when it never finished (see console). */
  code: number | null;
  console: string;
  /** The guest's /tmp/out: files the script wrote there are here (removed by cleanup()). */
  outDir: string;
  timedOut: boolean;
  ms: number;
  cleanup(): void;
}

const running = new Set<ChildProcess>();
// A test process that dies takes its guests with it.
process.once('exit', () => { for (const q of running) q.kill('SIGTERM'); });

/** Boots the guest, runs `script` (sh) in it with the host's root as its root, and waits for it to power off. */
export function runInGuest(image: GuestImage, script: string, options: { timeoutMs: number; memoryMb?: number }): Promise<GuestRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'llmos-guest-'));
  writeFileSync(join(outDir, 'run.sh'), script);
  writeFileSync(join(outDir, 'repo-path'), packageRoot);
  const args = [
    '-accel', 'tcg', '-m', String(options.memoryMb ?? 1024), '-smp', '1', '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', image.kernel, '-initrd', image.initrd, '-append', 'console=ttyS0 panic=-1 quiet',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${outDir},mount_tag=out,security_model=none`,
    '-virtfs', `local,path=${packageRoot},mount_tag=repo,security_model=none,readonly=on,multidevs=remap`,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // coreutils timeout bounds the guest even if this process is killed before its own timer fires.
    const bound = String(Math.ceil(options.timeoutMs / 1000) + 30);
    const q = spawn('timeout', ['-s', 'KILL', bound, 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(q);
    let console = '';
    q.stdout.on('data', (d: Buffer) => { console += d.toString(); });
    q.stderr.on('data', (d: Buffer) => { console += d.toString(); });
    let timedOut = false;
    // SIGTERM: timeout passes it on to QEMU, which exits at once.
    const timer = setTimeout(() => { timedOut = true; q.kill('SIGTERM'); }, options.timeoutMs);
    q.on('error', (e) => { clearTimeout(timer); running.delete(q); rmSync(outDir, { recursive: true, force: true }); reject(e); });
    q.on('close', () => {
      clearTimeout(timer);
      running.delete(q);
      const codeFile = join(outDir, 'exit-code');
      const code = existsSync(codeFile) ? Number(readFileSync(codeFile, 'utf8').trim()) : null;
      resolve({ code, console, outDir, timedOut, ms: Date.now() - started, cleanup: () => rmSync(outDir, { recursive: true, force: true }) });
    });
  });
}

export interface TapResult { name: string; ok: boolean; skip: boolean; detail: string }

/** The top-level results of a node:test TAP report, with each one's diagnostic block. */
export function parseTap(tap: string): TapResult[] {
  const results: TapResult[] = [];
  let current: TapResult | undefined;
  for (const line of tap.split('\n')) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
    if (m) {
      current = { name: m[2] ?? '', ok: m[1] === 'ok', skip: m[3] !== undefined, detail: '' };
      results.push(current);
    } else if (current && line.startsWith('  ')) {
      current.detail += `${line}\n`;
    } else {
      current = undefined;
    }
  }
  return results;
}
