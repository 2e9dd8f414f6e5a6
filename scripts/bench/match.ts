/**
 * Matcher latency over synthetic trace sets (1k, 10k, 100k traces). Wall-clock percentiles are
 * what a goal waits; CPU percentiles (process.cpuUsage around each match) leave out the time the
 * process was not running, which on a loaded machine dominates a 0.1 ms operation's p99.
 * `scored_per_match` is how many traces the pruning index let through to exact scoring.
 */
import { Matcher } from '../../runtime/matcher/matcher.js';
import { percentiles } from './core.js';
import { syntheticGoals, syntheticTraces } from './synthetic.js';

export async function matchBench(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const n of [1000, 10000, 100000]) {
    const records = syntheticTraces(n);
    const matcher = new Matcher({ unitsFor: () => undefined });
    const t0 = performance.now();
    matcher.load(records);
    const indexMs = performance.now() - t0;
    const goals = syntheticGoals(records, 2000);
    for (const g of goals) matcher.match(g); // warm up the JIT and the lazily built lists
    const wall: number[] = [];
    const cpu: number[] = [];
    const before = { ...matcher.stats };
    for (const g of goals) {
      const c = process.cpuUsage();
      const s = performance.now();
      matcher.match(g);
      wall.push(performance.now() - s);
      const d = process.cpuUsage(c);
      cpu.push((d.user + d.system) / 1000);
    }
    const scored = (matcher.stats.scored - before.scored) / (matcher.stats.matches - before.matches);
    result[`traces_${n}`] = {
      ...percentiles(wall), cpu: percentiles(cpu), unit: 'ms', index_build_ms: Math.round(indexMs),
      scored_per_match: Math.round(scored * 10) / 10, scored_fraction: Math.round((scored / n) * 1e5) / 1e5,
    };
  }
  return result;
}
