/**
 * Whole-process measurements: wall time from spawn to exit and peak RSS, alternating the commands
 * run by run so that load on the machine hits each of them alike, and every figure reported as a
 * ratio to `node -e 0` measured in the same rounds.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessRun { ms: number; rss_mb: number; cpu_ms: number }

/** Medians: wall time, peak RSS, and CPU time (user + system: what a loaded machine's wall time hides). */
export interface Measured { ms: number; rss_mb: number; cpu_ms: number; runs: number }

/** A preload that records the process's peak RSS (the same small cost for every command). */
export function rssProbe(dir: string): string {
  const file = join(dir, 'rss-probe.cjs');
  writeFileSync(file, "process.on('exit', () => { try { const c = process.cpuUsage(); require('fs').writeFileSync(process.env.LLMOS_BENCH_RSS, JSON.stringify({ rss: process.resourceUsage().maxRSS, cpu: (c.user + c.system) / 1000 })); } catch {} });\n");
  return file;
}

export function runOnce(probe: string, args: readonly string[], options: { cwd: string; input?: string; expectCode?: number }): ProcessRun {
  const rssFile = join(options.cwd, `rss-${process.pid}.txt`);
  rmSync(rssFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', probe, ...args], {
    cwd: options.cwd, input: options.input ?? '', encoding: 'utf8',
    env: { ...process.env, LLMOS_BENCH_RSS: rssFile, NODE_NO_WARNINGS: '1' },
  });
  const ms = performance.now() - t0;
  if (r.status !== (options.expectCode ?? 0)) throw new Error(`bench: ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}`);
  let rss = 0;
  let cpu = 0;
  try {
    const p = JSON.parse(readFileSync(rssFile, 'utf8')) as { rss: number; cpu: number };
    rss = p.rss / 1024;
    cpu = p.cpu;
  } catch { /* no probe output */ }
  return { ms, rss_mb: rss, cpu_ms: cpu };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs each named command `rounds` times, alternating; medians per command. */
export function alternate(rounds: number, commands: Record<string, () => ProcessRun>): Record<string, Measured> {
  const samples: Record<string, ProcessRun[]> = {};
  for (const name of Object.keys(commands)) samples[name] = [];
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(commands)) (samples[name] as ProcessRun[]).push(run());
  }
  const out: Record<string, Measured> = {};
  for (const [name, runs] of Object.entries(samples)) {
    const med = (f: (r: ProcessRun) => number): number => Math.round(median(runs.map(f)) * 10) / 10;
    out[name] = { ms: med((r) => r.ms), rss_mb: med((r) => r.rss_mb), cpu_ms: med((r) => r.cpu_ms), runs: runs.length };
  }
  return out;
}

export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}
