/**
 * The e-stop latch beyond one process's life (DESIGN.md invariant 9). The latch is written to
 * the state directory (temp file, fsync, rename: never half written) before an engage is
 * reported, so a crash, a watchdog restart or `systemctl restart` cannot clear it: the runtime
 * starts engaged when it was engaged when it stopped or died. Only an explicit release clears it,
 * and a release is refused while an e-stop input on the board is still active.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LlmosError } from '../lib/errors.js';

export interface LatchRecord {
  engaged: boolean;
  reason?: string;
  source?: string;
  /** ISO time of the engage. */
  since?: string;
  engagement: number;
}

export class EstopLatchFile {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  /**
   * The latch as it was left; undefined when there is no file. A file that cannot be read or
   * parsed counts as engaged: not knowing whether an e-stop was engaged is not a release.
   */
  load(): LatchRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { engaged: true, reason: `the e-stop latch file ${this.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, source: 'safety', engagement: 0 };
    }
    try {
      const doc = JSON.parse(text) as Partial<LatchRecord>;
      if (typeof doc.engaged !== 'boolean') throw new Error('no "engaged" field');
      return {
        engaged: doc.engaged,
        ...(typeof doc.reason === 'string' ? { reason: doc.reason } : {}),
        ...(typeof doc.source === 'string' ? { source: doc.source } : {}),
        ...(typeof doc.since === 'string' ? { since: doc.since } : {}),
        engagement: typeof doc.engagement === 'number' && Number.isInteger(doc.engagement) && doc.engagement >= 0 ? doc.engagement : 0,
      };
    } catch (e) {
      return { engaged: true, reason: `the e-stop latch file ${this.file} is damaged (${(e as Error).message})`, source: 'safety', engagement: 0 };
    }
  }

  /** Crash-safe replace; throws ERR_STATE when it cannot be written. */
  save(record: LatchRecord): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, `${JSON.stringify(record)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch (e) {
      throw new LlmosError('ERR_STATE', `cannot write the e-stop latch to ${this.file}: ${(e as Error).message}`);
    }
  }
}

/** Which e-stop inputs (buttons) are active now; a release waits until none is. */
export class EstopInputs {
  private readonly active = new Set<string>();

  set(name: string, isActive: boolean): void {
    if (isActive) this.active.add(name); else this.active.delete(name);
  }

  /** Throws ERR_ESTOP_INPUT_ACTIVE while any input is active. */
  assertReleasable(): void {
    if (this.active.size === 0) return;
    throw new LlmosError('ERR_ESTOP_INPUT_ACTIVE', `the e-stop input ${[...this.active].join(', ')} is still active; reset the button (or fix its wiring), then release again`);
  }
}
