/**
 * Matcher latency over synthetic trace sets (1k, 10k, 100k traces). Wall-clock percentiles are
 * what a goal waits; CPU percentiles (process.cpuUsage around each match) leave out the time the
 * process was not running, which on a loaded machine dominates a 0.1 ms operation's p99.
 * `scored_per_match` is how many traces the pruning index let through to exact scoring, and
 * `p50_vs_full_scan` the ratio to scoring every trace, measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../../lib/paths.js';
import { goalVector, Matcher, overlapOf } from '../../runtime/matcher/matcher.js';
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
    // Same-run baseline: scoring every trace (what an index that does not prune costs), 50 goals.
    const models = records.map((r) => matcher.modelOf(r.trace.goal_signature)).filter((m) => m !== undefined);
    const scan: number[] = [];
    for (const g of goals.slice(0, 50)) {
      const s = performance.now();
      const v = goalVector(matcher.match(g, 1).goal);
      let best = 0;
      for (const m of models) best = Math.max(best, overlapOf(v, m));
      scan.push(performance.now() - s);
      if (best < 0) throw new Error('unreachable');
    }
    const scanP50 = percentiles(scan).p50;
    result[`traces_${n}`] = {
      ...percentiles(wall), cpu: percentiles(cpu), unit: 'ms', index_build_ms: Math.round(indexMs),
      scored_per_match: Math.round(scored * 10) / 10, scored_fraction: Math.round((scored / n) * 1e5) / 1e5,
      full_scan_p50: scanP50, p50_vs_full_scan: Math.round((percentiles(wall).p50 / scanP50) * 1000) / 1000,
    };
  }
  result['lexicon'] = lexiconCost();
  return result;
}

/**
 * What the WordNet-derived data adds to a cold process (median of 9 child processes): importing
 * the analysis with and without the generated synonyms folded in, and reading the English-word
 * filter (done only when a goal has an unknown word).
 */
function lexiconCost(): Record<string, unknown> {
  const analyze = pathToFileURL(packagePath('dist', 'runtime', 'matcher', 'analyze.js')).href;
  const synonyms = pathToFileURL(packagePath('dist', 'runtime', 'matcher', 'synonyms.generated.js')).href;
  const english = pathToFileURL(packagePath('dist', 'runtime', 'matcher', 'english.js')).href;
  const lexicon = pathToFileURL(packagePath('dist', 'runtime', 'matcher', 'lexicon.js')).href;
  // The lexicon first, so the synonyms' own import is not charged with the module loader's start.
  const script = `await import(${JSON.stringify(lexicon)}); const a = performance.now(); const s = await import(${JSON.stringify(synonyms)}); const b = performance.now();
const an = await import(${JSON.stringify(analyze)}); const c = performance.now();
const e = await import(${JSON.stringify(english)}); const d = performance.now(); e.isEnglishWord('gripper'); const f = performance.now();
const m0 = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ synonyms: Object.keys(s.SYNONYMS).length, synonyms_ms: b - a, analyze_ms: c - b, filter_ms: f - d, fold_ms: an.synonymFoldMs, rss_mb: m0 / 1048576 }));`;
  const runs = Array.from({ length: 9 }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<string, number>);
  const med = (k: string): number => Math.round(((runs.map((r) => r[k] as number).sort((x, y) => x - y)[4]) ?? 0) * 1000) / 1000;
  return {
    synonyms: runs[0]?.['synonyms'], synonyms_import_ms: med('synonyms_ms'), synonyms_fold_ms: med('fold_ms'), startup_added_ms: Math.round((med('synonyms_ms') + med('fold_ms')) * 1000) / 1000,
    analyze_import_ms: med('analyze_ms'),
    english_filter_bytes: statSync(packagePath('dist', 'runtime', 'matcher', 'english-words.bloom')).size, english_filter_first_use_ms: med('filter_ms'),
    note: 'synonyms are folded into the lexicon maps when analyze.js loads; the filter is read on the first unknown word only',
  };
}
