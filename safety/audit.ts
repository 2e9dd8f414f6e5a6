/**
 * The audit log: one JSON line per gate decision (time, source, run, tool, arguments, decision,
 * reason), append-only. Lines are buffered and flushed on the next turn of the event loop so the
 * gate's hot path pays only for JSON.stringify; `flushSync()` runs on every exit path.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FailureStreak, LineAppender } from '../lib/line-log.js';

export type Decision = 'allow' | 'reject' | 'clamp' | 'ask' | 'confirmed' | 'denied' | 'estop' | 'release' | 'stop';

export interface AuditEntry {
  ts: string;
  source: string;
  run: string;
  tool: string;
  args?: unknown;
  decision: Decision;
  reason?: string;
  code?: string;
}

export interface AuditSink {
  record(entry: AuditEntry): void;
  flush(): Promise<void>;
  flushSync(): void;
}

/** Keeps the most recent entries in memory (tests, benchmarks, boards without a state dir). */
export class MemoryAudit implements AuditSink {
  readonly entries: AuditEntry[] = [];
  private readonly capacity: number;
  constructor(capacity = 10000) { this.capacity = capacity; }
  record(entry: AuditEntry): void {
    this.entries.push(entry);
    // Trim in batches: one splice per `capacity` entries keeps recording O(1) amortised.
    if (this.entries.length >= 2 * this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }
  async flush(): Promise<void> { /* nothing buffered */ }
  flushSync(): void { /* nothing buffered */ }
}

export class FileAudit implements AuditSink {
  private buffer: string[] = [];
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();
  /** Recent entries, for tests and `state show`. */
  readonly recent: AuditEntry[] = [];

  private readonly lines: LineAppender;
  private readonly keepRecent: number;
  private readonly streak: FailureStreak;

  /** `warn` hears once when writes start failing (a full disk) and once when they work again. */
  constructor(path: string, keepRecent = 200, warn: (message: string) => void = () => undefined) {
    this.lines = new LineAppender(path);
    this.keepRecent = keepRecent;
    this.streak = new FailureStreak(`audit log ${path}`, warn);
    mkdirSync(dirname(path), { recursive: true });
  }

  record(entry: AuditEntry): void {
    this.buffer.push(`${JSON.stringify(entry)}\n`);
    this.recent.push(entry);
    if (this.recent.length > this.keepRecent) this.recent.shift();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; void this.flush(); });
    }
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0) {
      const chunk = this.buffer.join('');
      this.buffer = [];
      this.writing = this.writing.then(() => this.lines.append(chunk)).then(() => this.streak.succeeded(), (e: unknown) => this.streak.failed(e));
    }
    await this.writing;
  }

  flushSync(): void {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    try {
      this.lines.appendSync(chunk);
      this.streak.succeeded();
    } catch (e) {
      this.streak.failed(e);
    }
  }
}
