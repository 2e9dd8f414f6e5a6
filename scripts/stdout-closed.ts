/**
 * Standard output closed by its reader (`run-follower --json - | head -c 10`): a write then fails
 * with EPIPE, which would otherwise crash the process with a stack trace. Instead the runner is
 * told once, brings everything to rest and ends quietly; nothing more is written.
 */
import type { OutStream } from './main-io.js';

export interface StdoutWatch {
  readonly closed: boolean;
  /** Writes unless the reader is gone. */
  write(text: string): void;
  off(): void;
}

export function watchStdout(onClosed: () => void, stream: OutStream = process.stdout, err: (text: string) => void = (t) => { process.stderr.write(t); }): StdoutWatch {
  let closed = false;
  const onError = (e: NodeJS.ErrnoException): void => {
    if (closed) return;
    closed = true;
    // EPIPE (reader gone) or any other write failure: there is no one to tell but the journal.
    if (e.code !== 'EPIPE') err(`standard output failed (${e.code ?? e.message}); stopping\n`);
    onClosed();
  };
  stream.on('error', onError);
  return {
    get closed() { return closed; },
    write(text) { if (!closed && !stream.destroyed) stream.write(text); },
    off() { stream.off('error', onError); },
  };
}
