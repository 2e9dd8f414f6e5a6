/**
 * Reading a sim log (or twin timeline) for the operator's viewers: one JSON object per line,
 * `{"t": ms, "actuator": name, "value": ..., "channel"?: ...}` for writes, other lines (a
 * collision, an event) kept as they are. A torn last line (the process died mid-append) is
 * skipped and counted; any other unreadable line is an error naming the file and line.
 */
import { readFileSync, statSync } from 'node:fs';
import { LlmosError } from '../../lib/errors.js';

export type SimValue = number | boolean | string;

export interface SimWriteLine { t: number; actuator: string; value: SimValue; channel?: string; [k: string]: unknown }
export interface SimOtherLine { t: number; kind: string; [k: string]: unknown }

export interface SimLogContents {
  writes: SimWriteLine[];
  /** Lines that are not writes (collisions, events), with `kind` from their `event`/`kind` field. */
  other: SimOtherLine[];
  /** 1 when the last line was cut short. */
  torn: number;
}

const isValue = (v: unknown): v is SimValue => (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || typeof v === 'string';

/** A sim log of a long run is a few MB; anything far larger is not one (or not worth a viewer). */
export const MAX_SIM_LOG_BYTES = 256 * 1024 * 1024;

export function readSimLogFile(file: string): SimLogContents {
  let text: string;
  try {
    const st = statSync(file);
    // /dev/zero, a fifo or a directory would be read without end or fail obscurely.
    if (!st.isFile()) throw new LlmosError('ERR_USAGE', `${file}: not a regular file (a sim log is a JSON-lines file written by --sim-log)`);
    if (st.size > MAX_SIM_LOG_BYTES) throw new LlmosError('ERR_USAGE', `${file}: ${st.size} bytes is more than a sim log holds (at most ${MAX_SIM_LOG_BYTES})`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof LlmosError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new LlmosError(code === 'ENOENT' ? 'ERR_CONFIG_NOT_FOUND' : 'ERR_USAGE', `${file}: ${code === 'ENOENT' ? 'no such sim log' : (e as Error).message}`);
  }
  const lines = text.split('\n');
  const out: SimLogContents = { writes: [], other: [], torn: 0 };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try { obj = JSON.parse(line); } catch {
      if (i === lines.length - 1) { out.torn = 1; return; }
      throw new LlmosError('ERR_USAGE', `${file}:${i + 1}: not a JSON line`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new LlmosError('ERR_USAGE', `${file}:${i + 1}: not a JSON object`);
    const rec = obj as Record<string, unknown>;
    const t = rec['t'];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new LlmosError('ERR_USAGE', `${file}:${i + 1}: "t" must be a time in ms since the start`);
    if (typeof rec['actuator'] === 'string' && isValue(rec['value'])) {
      out.writes.push(rec as SimWriteLine);
    } else {
      const kind = typeof rec['event'] === 'string' ? rec['event'] : typeof rec['kind'] === 'string' ? rec['kind'] : 'event';
      out.other.push({ ...rec, t, kind });
    }
  });
  // Stable: writes of one instant keep their order.
  out.writes.sort((a, b) => a.t - b.t);
  out.other.sort((a, b) => a.t - b.t);
  return out;
}

/** The series a write belongs to: the actuator, or actuator/channel (a drive base's wheels). */
export function seriesOf(w: SimWriteLine): string {
  return typeof w.channel === 'string' && w.channel !== '' ? `${w.actuator}/${w.channel}` : w.actuator;
}
