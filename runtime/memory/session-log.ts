/**
 * L2 memory: one JSON line per run (goal, mode, trace, result, timings), appended to
 * `<logs>/sessions/runs.jsonl`. Appends are synchronous O_APPEND writes, so a line is on disk
 * when the run is reported and a crash loses nothing. When the file would pass max_bytes it is
 * renamed to `runs.<UTC time>.<n>.jsonl` (rename is atomic; the next append starts a new file)
 * and the oldest rotated files beyond `keep` are deleted.
 */
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LineAppender } from '../../lib/line-log.js';

export interface SessionLogOptions {
  dir: string;
  maxBytes: number;
  keep: number;
}

/** Rotations in this process: with the pid, every rotated name is new (no rename onto another). */
let rotations = 0;

export class SessionLog {
  readonly file: string;
  private size: number | undefined;
  /** Starts a record on a fresh line after a torn one (a write that failed half-way). */
  private readonly lines: LineAppender;

  private readonly options: SessionLogOptions;

  constructor(options: SessionLogOptions) {
    this.options = options;
    this.file = join(options.dir, 'runs.jsonl');
    this.lines = new LineAppender(this.file);
  }

  append(record: Record<string, unknown>): void {
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.size === undefined) {
      mkdirSync(this.options.dir, { recursive: true });
      try { this.size = statSync(this.file).size; } catch { this.size = 0; }
    }
    if (this.size > 0 && this.size + bytes > this.options.maxBytes) {
      // Another writer (a second process on the same directory) may have rotated already.
      try { this.size = statSync(this.file).size; } catch { this.size = 0; }
      if (this.size > 0 && this.size + bytes > this.options.maxBytes) this.rotate();
    }
    this.size += this.lines.appendSync(line);
  }

  /** Rotated files, oldest first, then the current one: the whole history in order. */
  files(): string[] {
    let names: string[] = [];
    try { names = readdirSync(this.options.dir); } catch { return []; }
    const rotated = names.filter((n) => /^runs\..+\.jsonl$/.test(n)).sort();
    return [...rotated, ...(names.includes('runs.jsonl') ? ['runs.jsonl'] : [])].map((n) => join(this.options.dir, n));
  }

  private rotate(): void {
    // Sortable names: the UTC time, then a counter for several rotations in one millisecond.
    // The pid keeps two writers rotating in the same millisecond from renaming onto one name.
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    try {
      renameSync(this.file, join(this.options.dir, `runs.${stamp}.${process.pid}.${String(rotations++).padStart(6, '0')}.jsonl`));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.size = 0;
    this.lines.reset();
    const rotated = this.files().filter((f) => !f.endsWith('runs.jsonl'));
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.options.keep))) {
      try { unlinkSync(old); } catch { /* already gone */ }
    }
  }
}
