/**
 * The demonstration itself, shared by `llmos teach` on its own and `llmos teach` sent to the
 * runtime that owns the board (scripts/admin/teach-owner.ts): read lines, execute `:call` lines
 * through the gate, record, show the trace, save when confirmed. Same output and exit codes
 * either way; only where the recording lives differs (a TeachRecorder here, the owner's teaching
 * session there, shared with MQTT cmd/teach).
 */
import { yamlLib } from '../../lib/yaml-file.js';
import { toLlmosError } from '../../lib/errors.js';
import type { LLMOS } from '../../runtime/llmos.js';
import { parseCallLine, formatCallLine } from '../../runtime/operator/call-line.js';
import type { ToolCall } from '../../safety/gate.js';
import type { Trace, TraceRecord } from '../../runtime/traces/types.js';
import { runControl } from '../cli.js';

/** Where the demonstration is recorded. */
export interface TeachSink {
  /** A call the gate executed (a sink that records from the gate's own decisions ignores it). */
  executed(call: ToolCall): void;
  undo(): ToolCall | undefined;
  recorded(): readonly ToolCall[];
  /** Ends recording; the trace to show. */
  finish(): Trace;
  save(trace: Trace): Promise<TraceRecord>;
  discard(): void;
}

export interface TeachLoopIo {
  out(text: string): void;
  err(text: string): void;
  /** Input lines, trimmed; blank lines and # comments are skipped here. */
  lines: AsyncIterable<string>;
  /** Asks yes/no; undefined when there is nobody to ask. */
  confirm(question: string): Promise<boolean | undefined>;
  /** The client went away or was interrupted: stop reading. */
  signal?: AbortSignal;
}

export interface TeachLoopOptions { goal: string; interactive: boolean; yes: boolean; json: boolean; help: string }

/** Runs the demonstration; resolves with the exit status (0 saved, 1 not saved). */
export async function teachLoop(os: LLMOS, sink: TeachSink, io: TeachLoopIo, o: TeachLoopOptions): Promise<number> {
  const { goal, interactive } = o;
  let failed: string | undefined;
  let discard = false;
  let saved = false;
  try {
    if (interactive) io.err(`teaching "${goal}": :call <tool> name=value ..., then :save (or :discard); :help lists the rest\n`);
    for await (const raw of io.lines) {
      if (io.signal?.aborted) break;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const [cmd = '', ...rest] = line.split(/\s+/);
      if (cmd === ':call') {
        try {
          const call = parseCallLine(rest.join(' '));
          const r = await os.callTool(call, { source: 'operator' });
          sink.executed(call);
          io.err(`  recorded ${formatCallLine(call)}${r.adjusted.length ? ` (the gate adjusted: ${r.adjusted.join('; ')})` : ''}\n`);
        } catch (e) {
          const err = toLlmosError(e);
          io.err(`  not recorded: ${err.code}: ${err.message}\n`);
          if (!interactive) { failed = `a call failed (${err.code}); nothing is saved from a demonstration with a failed call`; break; }
        }
      } else if (cmd === ':undo') {
        const c = sink.undo();
        io.err(c ? `  forgot ${formatCallLine(c)}\n` : '  nothing to forget\n');
      } else if (cmd === ':show') {
        const calls = sink.recorded();
        io.err(calls.length ? `${calls.map((c, i) => `  ${i + 1}. ${formatCallLine(c)}`).join('\n')}\n` : '  nothing recorded yet\n');
      } else if (cmd === ':save') {
        break;
      } else if (cmd === ':discard') {
        discard = true;
        break;
      } else if (cmd === ':help') {
        io.err(`${o.help}\n`);
      } else if (cmd.startsWith(':')) {
        io.err(`${runControl(os, line)}\n`);
      } else {
        io.err(`  teach reads :call lines (e.g. ":call servo_move actuator=arm angle=45"), not goals: "${line}" ignored\n`);
        if (!interactive) { failed = `line "${line}" is not a :call line`; break; }
      }
    }
    if (io.signal?.aborted) { io.err('llmos teach: interrupted; nothing saved\n'); return 130; }
    if (failed) { io.err(`llmos teach: ${failed}\n`); return 1; }
    if (discard) { io.err('llmos teach: discarded; nothing saved\n'); return 1; }
    const count = sink.recorded().length;
    if (count === 0) { io.err(`llmos teach: nothing was recorded for "${goal}": make at least one call (:call <tool> name=value ...); nothing saved\n`); return 1; }
    const trace = sink.finish();
    io.err(`${yamlLib().stringify(trace)}`);
    if (!o.yes) {
      const answer = await io.confirm(`save this trace for "${goal}"?`);
      if (answer === undefined) { io.err('llmos teach: no terminal to confirm on: not saved (pass --yes to save without asking)\n'); return 1; }
      if (!answer) { io.err('llmos teach: not saved\n'); return 1; }
    }
    const rec = await sink.save(trace);
    saved = true;
    const params = Object.keys(rec.trace.parameters ?? {});
    io.out(o.json
      ? `${JSON.stringify({ ok: true, signature: rec.trace.goal_signature, file: rec.file, goal, calls: count, parameters: params })}\n`
      : `saved ${rec.file} (${rec.trace.goal_signature}): ${count} call${count === 1 ? '' : 's'}${params.length ? `, parameters: ${params.join(', ')}` : ''}\n`);
    return 0;
  } finally {
    if (!saved) sink.discard();
  }
}
