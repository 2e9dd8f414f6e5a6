/**
 * What every `llmos` subcommand shares: flags (the config flags of run-follower plus --json),
 * configuration resolved exactly as run-follower does (runtime/config.ts), tables, progress on
 * standard error, and exit codes (0 ok, 1 failure, 2 usage or configuration).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { exitStatusOf, LlmosError, toLlmosError } from '../../lib/errors.js';
import { loadConfig, type RuntimeConfig } from '../../runtime/config.js';
import { overridesFrom } from '../cli.js';
import type { MainIo } from '../main-io.js';

export const ADMIN_OPTIONS = {
  config: { type: 'string' },
  preset: { type: 'string' },
  board: { type: 'string' },
  traces: { type: 'string' },
  crystallized: { type: 'string' },
  state: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Flags of commands that move the board (jog, teach): the sim board's options, as run-follower has them. */
export const SIM_OPTIONS = {
  'sim-log': { type: 'string' },
  'sim-time': { type: 'string' },
  'sim-world': { type: 'string' },
  twins: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const SIM_HELP = `  --sim-log FILE       record the sim board's writes, one JSON line each
  --sim-time real|virtual
  --sim-world FILE     the sim room (size, start pose, obstacles) as run-follower takes it
  --twins              real drivers against their twins`;

export const COMMON_HELP = `Common options:
  --config FILE        YAML configuration (paths resolve as for run-follower)
  --traces DIR         traces directory (default ./traces or the config's paths.traces)
  --crystallized DIR   crystallized functions directory (default ./crystallized)
  --state DIR          state directory (default ./state)
  --board FILE|sim     board profile
  --json               machine-readable output on standard output
  -h, --help           help for this command`;

export type Values = Record<string, string | boolean | string[] | undefined>;

/** A subcommand's standard streams, directory and signals (scripts/main-io.ts). */
export type Io = MainIo;

export interface Parsed { values: Values; args: string[] }

/** Strict parse: an unknown flag is ERR_USAGE naming it. */
export function parseSub(argv: readonly string[], extra: NonNullable<ParseArgsConfig['options']> = {}): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { ...ADMIN_OPTIONS, ...extra }, allowPositionals: true, strict: true });
    return { values: values as Values, args: positionals };
  } catch (e) {
    throw new LlmosError('ERR_USAGE', `${(e as Error).message.replace(/\. To specify.*$/s, '')} (see --help)`);
  }
}

/** The configuration from --config and the path flags, resolved like run-follower's. */
export function configFrom(values: Values, cwd: string = process.cwd()): RuntimeConfig {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const overrides = overridesFrom(values as Record<string, string | boolean | undefined>);
  if (str('crystallized') !== undefined) overrides.paths = { ...overrides.paths, crystallized: str('crystallized') as string };
  const file = str('config');
  return loadConfig({ ...(file !== undefined ? { file } : {}), overrides: { ...overrides, logging: { level: 'warn' } }, cwd });
}

/** A plain text table; the last column is not padded. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Progress on standard error for work over many files: one redrawn line on a terminal, else a
 * line at every tenth of the work. Quiet below `min` items, where it would only be noise.
 */
export function progress(io: Io, label: string, min = 50): (done: number, total: number, what: string) => void {
  let lastTenth = -1;
  return (done, total) => {
    if (total < min) return;
    if (io.tty) {
      io.err(`\r${label} ${done}/${total}${done === total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor((done * 10) / total);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      io.err(`${label} ${done}/${total}\n`);
    }
  };
}

/** Exit status for an error: 2 usage or configuration, 1 everything else. */
export function exitCodeOf(e: unknown): number {
  const code = toLlmosError(e).code;
  return exitStatusOf(code);
}

export function usage(message: string): LlmosError {
  return new LlmosError('ERR_USAGE', message);
}

export function fmtRate(r: number): string {
  return `${Math.round(r * 1000) / 10}%`;
}

export function fmtDate(s: string | null | undefined): string {
  if (!s) return '-';
  return s.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');
}

export function shorten(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * Asks a yes/no question on the controlling terminal (not standard input, which may carry data).
 * Undefined when there is no terminal. A tty stream (not a blocking file read), so a signal still
 * ends the process while it waits.
 */
export async function confirmOnTerminal(io: Io, question: string): Promise<boolean | undefined> {
  const { openSync } = await import('node:fs');
  const tty = await import('node:tty');
  let fd: number;
  try { fd = openSync('/dev/tty', 'r'); } catch { return undefined; }
  if (!tty.isatty(fd)) return undefined;
  const input = new tty.ReadStream(fd);
  io.err(`${question} [y/N] `);
  try {
    const line = await new Promise<string>((resolve) => {
      let buf = '';
      input.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      input.on('end', () => resolve(buf));
    });
    return /^\s*y(es)?\s*$/i.test(line);
  } finally {
    input.destroy();
  }
}
