/**
 * Watchdog latency: how long after the runtime's event loop stops (mid-motion) the watchdog
 * process has written the safe values, against the target of twice the deadman window.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../lib/paths.js';
import { loadConfig } from '../../runtime/config.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';
import { percentiles } from './core.js';

interface Line { t: number; actuator: string; value: unknown; source?: string }

export async function watchdogBench(): Promise<Record<string, unknown>> {
  const deadman = 200;
  const samples: number[] = [];
  for (let run = 0; run < 5; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-wd-'));
    cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
    const log = join(dir, 'sim.jsonl');
    const config = loadConfig({ cwd: dir, overrides: { board: 'sim', paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'real', log }, safety: { deadman_ms: deadman, audit: false }, logging: { level: 'silent' } } });
    const os = new LLMOS({ config, logger: silentLogger });
    await os.boot();
    await os.watchdogReady;
    const drive = os.gate.call({ name: 'drive', args: { distance_m: 3, speed: 0.5 } }, { source: 'api', runId: 'bench' }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 600));
    const lines = (): Line[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
    // A write just before the freeze marks its start in the sim log's own time frame.
    await os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: true } }, { source: 'api', runId: 'mark' });
    const lastMain = lines().filter((l) => l.actuator === 'led').at(-1)?.t ?? 0;
    const until = Date.now() + 4 * deadman;
    while (Date.now() < until) { /* the event loop is stuck */ }
    await drive;
    const stop = lines().find((l) => l.source === 'watchdog');
    if (stop) samples.push(stop.t - lastMain);
    await os.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    deadman_ms: deadman, target_ms: 2 * deadman, ...percentiles(samples), unit: 'ms',
    note: 'from the moment the event loop froze, mid-drive, to the watchdog process\'s safe-value write',
  };
}
