/**
 * Progress of a long goal on a terminal: the current step, its tool and the elapsed time, redrawn
 * on one line of standard error once a goal has run for a second, and erased when it ends.
 * Nothing is shown when standard error is not a terminal, and nothing ever goes to standard output.
 */
import type { LLMOS } from '../runtime/llmos.js';
import type { OutStream } from './main-io.js';

const SHOW_AFTER_MS = 1000;
const REDRAW_MS = 200;

export function showProgress(os: LLMOS, stream: OutStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  let run: { id: string; goal: string; started: number; steps: number; tool: string | undefined } | undefined;
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = (): void => {
    if (!run) return;
    const elapsed = Date.now() - run.started;
    if (elapsed < SHOW_AFTER_MS) return;
    const width = Math.max(20, (stream.columns || 80) - 1);
    const line = `${run.goal}: step ${run.steps + 1}${run.tool ? ` ${run.tool}` : ''}, ${(elapsed / 1000).toFixed(1)} s`;
    stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    drawn = true;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  // An observing hook: it sees each call as it starts and decides nothing.
  const offHook = os.gate.addHook('pre_tool_use', (input) => {
    if (run && input.run === run.id) run.tool = input.tool;
    return undefined;
  });
  const offs = [
    offHook,
    os.events.on('run_started', (e) => { clear(); run = { id: e.run, goal: e.goal, started: Date.now(), steps: 0, tool: undefined }; }),
    os.events.on('step', (e) => { if (run && e.run === run.id) run.steps = e.step.index + 1; }),
    os.events.on('run_finished', (e) => { if (run && e.run === run.id) { run = undefined; clear(); } }),
  ];
  return () => {
    clearInterval(timer);
    for (const off of offs) off();
    clear();
  };
}
