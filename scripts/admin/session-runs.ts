/**
 * The runs in a state directory's session log (`<logs>/sessions/runs*.jsonl`, rotated files
 * first), for `llmos export mcap --run ID` and `--list`. Lines written before runs had an id are
 * left out; torn or damaged lines are skipped with a warning naming the file and line, never a
 * crash. Only a line that claims the asked-for id and is damaged is an error.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LlmosError } from '../../lib/errors.js';
import { check } from '../../lib/validate.js';
import type { RunTimelineRecord } from '../../runtime/memory/run-timeline.js';

export interface RunRecord {
  id: string;
  started_at: string;
  goal: string;
  mode?: string;
  ok?: boolean;
  duration_ms: number;
  sim_log?: { file: string; t0: number; t1?: number; first?: number };
  timeline?: RunTimelineRecord;
  [k: string]: unknown;
}

export interface SessionRuns {
  runs: RunRecord[];
  /** Lines that are not a run record (torn, damaged), as `file:line: why`. */
  skipped: string[];
  /** Lines from before runs had an id. */
  withoutId: number;
  files: string[];
}

/** A session log far larger than its rotation size is not one. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const ID = /^[A-Za-z0-9._:-]{1,200}$/;

export function sessionFiles(dir: string): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const rotated = names.filter((n) => /^runs\..+\.jsonl$/.test(n)).sort();
  return [...rotated, ...(names.includes('runs.jsonl') ? ['runs.jsonl'] : [])].map((n) => join(dir, n));
}

/** Reads every run with an id; `want` stops at that id (and makes a damaged line with it an error). */
export function readSessionRuns(dir: string, want?: string): SessionRuns {
  const out: SessionRuns = { runs: [], skipped: [], withoutId: 0, files: sessionFiles(dir) };
  for (const file of out.files) {
    let text: string;
    try {
      const st = statSync(file);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) { out.skipped.push(`${file}: not a session log (not a regular file, or ${st.size} bytes)`); continue; }
      text = readFileSync(file, 'utf8');
    } catch (e) {
      out.skipped.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const where = `${file}:${i + 1}`;
      let obj: unknown;
      try { obj = JSON.parse(line); } catch { out.skipped.push(`${where}: not a JSON line (torn write)`); continue; }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) { out.skipped.push(`${where}: not a JSON object`); continue; }
      const id = (obj as Record<string, unknown>)['id'];
      if (id === undefined) { out.withoutId++; continue; }
      const issues = check('runRecord', obj);
      if (issues.length > 0) {
        const why = `${where}: not a run record: ${issues.slice(0, 3).map((x) => `${x.path || '/'} ${x.message}`).join('; ')}`;
        if (want !== undefined && id === want) throw new LlmosError('ERR_USAGE', `run ${want}: ${why}`);
        out.skipped.push(why);
        continue;
      }
      out.runs.push(obj as RunRecord);
      if (want !== undefined && id === want) return out;
    }
  }
  return out;
}

/** The run `id` (or `last`: the newest), ERR_RUN_UNKNOWN naming what exists when there is none. */
export function findRun(dir: string, id: string): { run: RunRecord; skipped: string[] } {
  if (id !== 'last' && !ID.test(id)) throw new LlmosError('ERR_USAGE', `--run ${JSON.stringify(id.slice(0, 80))}: not a run id (letters, digits and . _ : - as llmos export mcap --list prints them, or "last")`);
  const all = readSessionRuns(dir, id === 'last' ? undefined : id);
  const run = id === 'last' ? all.runs.at(-1) : all.runs.find((r) => r.id === id);
  if (run) return { run, skipped: all.skipped };
  const where = all.files.length === 0 ? `there is no session log in ${dir} (runs are recorded when logging.sessions is on)` : `the session log in ${dir} holds ${all.runs.length} run${all.runs.length === 1 ? '' : 's'} with an id${all.runs.length ? ` (the newest: ${all.runs.at(-1)?.id})` : ''}`;
  throw new LlmosError('ERR_RUN_UNKNOWN', `--run ${id}: no such run; ${where}; llmos export mcap --list shows them`);
}
