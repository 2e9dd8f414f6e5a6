/**
 * Reading a sim log (or twin timeline) for the operator's viewers: one JSON object per line,
 * `{"t": ms, "actuator": name, "value": ..., "channel"?: ...}` for writes, other lines (a
 * collision, an event) kept as they are. A torn last line (the process died mid-append) is
 * skipped and counted; any other unreadable line is an error naming the file and line.
 */
import { readFileSync } from 'node:fs';
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

export function readSimLogFile(file: string): SimLogContents {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
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
