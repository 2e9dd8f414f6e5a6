/**
 * The johnny-five driver on its mock Firmata board (boards/arduino-arm.yaml with io: mock):
 * what loading johnny-five + firmata-io and connecting costs (first --check-board), and a
 * digital_write through the gate down to johnny-five's pin write.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packagePath } from '../../lib/paths.js';
import { loadConfig } from '../../runtime/config.js';
import { LLMOS } from '../../runtime/llmos.js';
import { silentLogger } from '../../runtime/logger.js';
import { checkBoard } from '../../safety/board-check.js';
import { percentiles } from './core.js';

export async function johnnyFiveBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'llmos-bench-j5-'));
  try {
    const doc = parse(readFileSync(packagePath('boards', 'arduino-arm.yaml'), 'utf8')) as Record<string, unknown>;
    delete doc['$schema'];
    (doc['drivers'] as Record<string, Record<string, unknown>>)['arduino']!['io'] = 'mock';
    // The gate's per-actuator command rate limit would otherwise be what this measures.
    (doc['actuators'] as Record<string, Record<string, unknown>>)['led']!['max_commands_per_s'] = 10000;
    const board = join(dir, 'arm.yaml');
    writeFileSync(board, stringify(doc));
    const check: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const report = await checkBoard(board);
      if (!report.ok) throw new Error(`mock arm check failed: ${JSON.stringify(report.rows)}`);
      check.push(performance.now() - t0);
    }
    const config = loadConfig({ cwd: dir, overrides: { board, paths: { traces: join(dir, 'traces'), state: join(dir, 'state') }, sim: { time: 'virtual' }, safety: { audit: false }, logging: { level: 'silent' } } });
    const os = new LLMOS({ config, logger: silentLogger });
    await os.boot();
    const writes: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      await os.gate.call({ name: 'digital_write', args: { actuator: 'led', value: i % 2 === 0 } }, { source: 'api', runId: 'bench' });
      writes.push(performance.now() - t0);
    }
    await os.shutdown();
    return {
      first_check_board_ms: Math.round((check[0] as number) * 10) / 10,
      later_check_board_ms: percentiles(check.slice(1)),
      digital_write_through_gate_ms: percentiles(writes),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
