/**
 * Appending whole JSON lines to a log that may end in a torn line. A write that fails half-way
 * (a full disk) leaves part of a line behind; the next append would glue its record onto it and
 * make both unparseable. So the tail is checked on the first append and after every failure,
 * and an append after a torn tail starts on a fresh line: the torn part stays one bad line, and
 * every later record is whole.
 */
import { appendFileSync, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';

export class LineAppender {
  readonly path: string;
  private tailKnownGood = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends `chunk` (whole lines); returns the bytes written (with a leading newline if one was needed). Throws on failure. */
  appendSync(chunk: string): number {
    const data = this.lead() + chunk;
    try {
      appendFileSync(this.path, data);
    } catch (e) {
      this.tailKnownGood = false;
      throw e;
    }
    return Buffer.byteLength(data);
  }

  async append(chunk: string): Promise<void> {
    const data = this.lead() + chunk;
    try {
      await appendFile(this.path, data);
    } catch (e) {
      this.tailKnownGood = false;
      throw e;
    }
  }

  /** The file was replaced (rotated): its tail is that of a new file. */
  reset(): void {
    this.tailKnownGood = false;
  }

  private lead(): string {
    if (this.tailKnownGood) return '';
    this.tailKnownGood = true;
    return endsMidLine(this.path) ? '\n' : '';
  }
}

/** True when the file exists, is not empty and its last byte is not a newline. */
export function endsMidLine(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Says so once when writes start failing, and once when they work again; silent in between. */
export class FailureStreak {
  private failing = false;
  private readonly warn: (message: string) => void;
  private readonly what: string;

  constructor(what: string, warn: (message: string) => void) {
    this.what = what;
    this.warn = warn;
  }

  failed(e: unknown): void {
    if (this.failing) return;
    this.failing = true;
    const err = e as NodeJS.ErrnoException;
    this.warn(`${this.what}: cannot write (${err.code ?? err.message}); records are lost until it can (said once per failure streak)`);
  }

  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.warn(`${this.what}: writing again`);
  }
}
