/**
 * A program on a real pseudo-terminal (Python's pty module; Node has none): a test types keys
 * into it and reads what the terminal shows, waiting for what it expects, never for a time.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const BRIDGE = 'import os, pty, sys\nsys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))';

export interface PtyProcess {
  child: ChildProcess;
  /** Everything the terminal has shown so far. */
  readonly output: string;
  type(keys: string): void;
  /** Resolves once the output matches (searched from `from`); rejects after a generous bound. */
  waitFor(pattern: RegExp, from?: number, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function spawnInPty(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): PtyProcess {
  const child = spawn('python3', ['-c', BRIDGE, ...argv], { stdio: ['pipe', 'pipe', 'inherit'], env });
  let output = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
    for (const w of [...waiters]) w();
  });
  let closed = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    closed = true;
    for (const w of [...waiters]) w();
    resolve(code);
  }));
  return {
    child,
    get output() { return output; },
    type(keys) { child.stdin?.write(keys); },
    waitFor(pattern, from = 0, ms = 60000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = output.slice(from).match(pattern);
          if (m) { cleanup(); resolve(m); return; }
          if (closed) { cleanup(); reject(new Error(`exited before ${pattern} appeared; output:\n${output.slice(-2000)}`)); }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`${pattern} did not appear; output:\n${output.slice(-2000)}`)); }, ms);
        const cleanup = (): void => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    exited,
  };
}
