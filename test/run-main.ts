/**
 * Runs a command's main(argv, io) in this process: the same arguments, exit code, standard output
 * and standard error as `runBin` spawning dist/bin/<command>.js, without a process start per run.
 * Tests whose subject is the process itself (signals, terminals, process groups, kill -9, the
 * owner lock between processes, the launcher) keep spawning it.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { installProcessGuards } from '../scripts/lib/process-guard.js';
import type { Main, MainIo } from '../scripts/main-io.js';
import { tempDir, type CliRun } from './helpers.js';

export type Command = 'run-follower' | 'run-agentic-follower' | 'llmos';

export interface RunMainOptions {
  cwd?: string;
  /** Standard input (ended after it); none: an empty one, as runBin gives. */
  input?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Emit 'SIGINT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2' on it to signal the command. */
  signals?: EventEmitter;
  /** Called with all of standard error so far after each write (e.g. to signal once a line shows). */
  onStderr?: (text: string) => void;
}

const mains = new Map<Command, Promise<Main>>();

function load(cmd: Command): Promise<Main> {
  let m = mains.get(cmd);
  if (!m) {
    m = import(`../scripts/commands/${cmd}.js`).then((mod: { main: Main }) => mod.main);
    mains.set(cmd, m);
  }
  return m;
}

/** A stream that keeps what is written to it. */
function sink(onWrite?: (text: string) => void): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer | string, _enc, cb) { text += chunk.toString(); onWrite?.(text); cb(); } });
  return { stream, text: () => text };
}

export async function runMain(cmd: Command, args: readonly string[], options: RunMainOptions = {}): Promise<CliRun> {
  const main = await load(cmd);
  const stdout = sink();
  const stderr = sink(options.onStderr);
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const signals = options.signals ?? new EventEmitter();
  const err = (t: string): void => { stderr.stream.write(t); };
  const io: MainIo = {
    out: (t) => { stdout.stream.write(t); },
    err,
    tty: false,
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin,
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? tempDir(),
    stdinIsNull: () => false,
    guard: (os, on) => installProcessGuards(os, { source: signals, onStop: (_reason, code) => on.stopping(code), exit: (code) => on.exit(code), log: (m) => err(`llmos: ${m}\n`) }),
    logWrite: err,
  };
  const code = await main(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
