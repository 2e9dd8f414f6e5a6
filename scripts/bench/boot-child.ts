/**
 * Child process for the start-up benchmark: boots the runtime on the sim board with the given
 * traces, runs one goal, and prints how long the process took to become ready (from the start of
 * the process, Node's own start-up included) and its peak RSS.
 */
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';

const [traces, state] = process.argv.slice(2);
const os = new LLMOS({ overrides: { board: 'sim', paths: { traces: traces as string, state: state as string }, sim: { time: 'virtual' }, safety: { audit: false } }, logger: silentLogger });
await os.boot();
const readyMs = performance.now();
const result = await os.execute('beep');
await os.shutdown();
process.stdout.write(`${JSON.stringify({ ready_ms: Math.round(readyMs * 10) / 10, traces: os.traces.size, from_cache: os.traceReport.fromCache, goal_ok: result.mode, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024 * 10) / 10 })}\n`);
