/**
 * What a command's `main(argv, io)` takes from its surroundings instead of from `process`, so one
 * process (a test) can run many commands, each with its own standard streams, directory and
 * signals. Only a process entry (`runEntry`) hands out the process's own: its streams, its
 * signal handlers and crash guards, and process.exit after a signal's orderly stop.
 */
import { fstatSync, statSync } from 'node:fs';
import type { RuntimeConfig } from '../runtime/config.js';
import type { LLMOS } from '../runtime/llmos.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { installProcessGuards } from './lib/process-guard.js';

export interface OutStream {
  write(text: string): unknown;
  on(event: 'error', listener: (e: NodeJS.ErrnoException) => void): unknown;
  off(event: 'error', listener: (e: NodeJS.ErrnoException) => void): unknown;
  readonly destroyed?: boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export type InStream = NodeJS.ReadableStream & { readonly isTTY?: boolean; destroy?(): unknown };

export interface GuardEvents {
  stopping(code: number): void;
  exit(code: number): void;
}

export interface MainIo {
  out(text: string): void;
  err(text: string): void;
  /** Standard error is a terminal (progress redraws one line). */
  tty: boolean;
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: NodeJS.ProcessEnv;
  /** Where relative paths and the default ./traces, ./state resolve. */
  cwd: string;
  /** True when standard input can never carry a line (/dev/null). */
  stdinIsNull(): boolean;
  /**
   * Safe state on the ways out a runtime has here: signals (SIGINT/SIGTERM stop it, SIGUSR1/2
   * engage and release the e-stop) and crashes. `on.stopping(code)` when such a stop begins,
   * `on.exit(code)` once the runtime is at rest: the command then ends with that code (the
   * process entry exits the process instead). Returns the undo.
   */
  guard(os: LLMOS, on: GuardEvents): () => void;
  /** The runtime's log lines; unset: the runtime writes them to the process's standard error. */
  logWrite?: (line: string) => void;
}

/** True when file descriptor 0 is /dev/null (or closed): no goal can ever arrive on it. */
function fd0IsNull(): boolean {
  try {
    const st = fstatSync(0);
    return st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev;
  } catch {
    return true;
  }
}

/** This process's own streams, environment, directory and signal handlers. */
export const processIo: MainIo = {
  out: (t) => { process.stdout.write(t); },
  err: (t) => { process.stderr.write(t); },
  get tty() { return process.stderr.isTTY === true; },
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() { return process.stdin; },
  env: process.env,
  get cwd() { return process.cwd(); },
  stdinIsNull: fd0IsNull,
  // The process's handlers exit the process once the runtime is safe, whatever else still runs.
  guard: (os) => installProcessGuards(os),
};

/** The runtime's logger for a command: to io.logWrite when set, else the runtime's own default. */
export function loggerFor(io: MainIo, config: RuntimeConfig): { logger?: Logger } {
  return io.logWrite ? { logger: createLogger(config.logging.level, { json: config.logging.format === 'json', write: io.logWrite }) } : {};
}

export type Main = (argv: readonly string[], io: MainIo) => Promise<number>;

/** Runs a command as this process: its arguments and streams; its exit code becomes the process's. */
export function runEntry(name: string, main: Main): void {
  main(process.argv.slice(2), processIo).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`${name}: ERR_INTERNAL: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  });
}
