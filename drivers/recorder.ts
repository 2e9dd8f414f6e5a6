/**
 * What the hardware would have seen: every physical write of a simulated twin, with the time it
 * happened, in memory and (with --sim-log FILE) as one JSON line per write. One recorder is
 * shared by every twin of a board so the log is a single timeline.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { assertReplaceable } from '../lib/usable-path.js';
import type { Clock } from '../lib/clock.js';
import type { ActuatorValue, FailsafeTarget } from './types.js';

export interface RecordedWrite {
  /** Milliseconds since the recorder opened. */
  t: number;
  actuator: string;
  value: ActuatorValue;
  channel?: 'left' | 'right';
  /** Twin-specific detail: the pin, sysfs line or serial port that carried the write. */
  via?: string;
}

/** A line that is not a write (a collision in the sim world): `{"t", "event", ...details}`. */
export interface RecordedEvent {
  t: number;
  event: string;
  [detail: string]: unknown;
}

export class WriteRecorder {
  readonly writes: RecordedWrite[] = [];
  /** Lines that are not writes, in order. */
  readonly events: RecordedEvent[] = [];
  private fd: number | undefined;
  private readonly origin: number;

  private readonly clock: Clock;
  readonly logFile: string | undefined;

  /** `origin`: the clock reading that is t=0 (default now); the runtime passes its own to align run timelines. */
  constructor(clock: Clock, logFile?: string, origin = clock.now()) {
    this.clock = clock;
    this.logFile = logFile;
    this.origin = origin;
    if (logFile) {
      assertReplaceable(logFile, 'sim log', 'sim log');
      // Truncate, then append: the watchdog process may append its own stop records to the file.
      closeSync(openSync(logFile, 'w'));
      this.fd = openSync(logFile, 'a');
    }
  }

  record(entry: Omit<RecordedWrite, 't'>): RecordedWrite {
    const w: RecordedWrite = { t: this.now(), ...entry };
    this.writes.push(w);
    // writeSync: the line is on disk before the call returns, so a killed process loses nothing.
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(w)}\n`);
    return w;
  }

  /** Logs an event on the same timeline as the writes (viewers show it as a marker). */
  recordEvent(event: string, details: Record<string, unknown>): RecordedEvent {
    const e: RecordedEvent = { t: this.now(), event, ...details };
    this.events.push(e);
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(e)}\n`);
    return e;
  }


  /**
   * A twin's lower-level line (a Firmata pin call) on the same timeline and in the same file:
   * `{t, ...fields}`. Kept out of `writes`, which hold what each actuator was commanded.
   */
  recordLine<T extends Record<string, unknown>>(fields: T): { t: number } & T {
    const l = { t: this.now(), ...fields };
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(l)}\n`);
    return l;
  }

  /** Milliseconds since the recorder opened, to the microsecond. */
  private now(): number {
    return Math.round((this.clock.now() - this.origin) * 1000) / 1000;
  }

  failsafeTarget(): FailsafeTarget | undefined {
    if (!this.logFile) return undefined;
    return { kind: 'sim-log', file: this.logFile, originEpochMs: performance.timeOrigin + this.origin };
  }

  private users = 0;

  /** Each driver sharing the recorder retains it; the file closes when the last one releases. */
  retain(): void {
    this.users++;
  }

  release(): void {
    if (--this.users <= 0) this.close();
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
