#!/usr/bin/env node
/**
 * `npm run eval [-- FILE...] [--json] [--quiet]`: precision and recall of the matcher per category
 * on labelled sets (default: every shipped set; the held-out one is reported, never tuned on).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../lib/paths.js';
import { evaluate, loadEvalSet, type EvalReport } from './matcher-eval.js';
import { runEntry, type MainIo } from './main-io.js';

const SETS = ['matcher-eval.yaml', 'matcher-eval-sim.yaml', 'matcher-heldout.yaml'];

/** The evaluation, importable: its report on io's standard output; exit code 1 below the bar. */
export async function main(args: readonly string[], io: MainIo): Promise<number> {
  const json = args.includes('--json');
  const quiet = args.includes('--quiet');
  const named = args.filter((a) => !a.startsWith('--'));
  const files = named.length > 0 ? named : SETS.map((f) => packagePath('test', 'fixtures', f)).filter(existsSync);
  const reports: Record<string, EvalReport> = {};
  let ok = true;
  for (const file of files) {
    const report = evaluate(loadEvalSet(file));
    reports[file.split('/').pop() as string] = report;
    if (report.false_follower_on_negatives > 0 || report.recall < 0.9) ok = false;
    if (json) continue;
    io.out(`${file.split('/').pop()}: cases ${report.cases} (positives ${report.paraphrases}, negatives ${report.negatives})\n`);
    io.out(`  precision ${report.precision}  recall ${report.recall} (typos apart)  typo recall ${report.typo_recall ?? '-'}  false replays on negatives ${report.false_follower_on_negatives}\n`);
    for (const [cat, r] of Object.entries(report.categories)) {
      io.out(`  ${cat.padEnd(18)} ${String(r.correct).padStart(4)}/${String(r.cases).padEnd(4)} ${(r.rate * 100).toFixed(1).padStart(5)}%${r.false_replays ? `  false replays ${r.false_replays}` : ''}\n`);
    }
    if (quiet) continue;
    for (const f of report.failures) {
      io.out(`  ${f.kind === 'paraphrase' ? 'MISSED ' : 'WRONG  '} [${f.cat}] ${JSON.stringify(f.goal)} -> ${f.mode} ${f.served ? JSON.stringify(f.served) : ''} ${f.score}  (expected ${f.expected === null ? 'no replay' : JSON.stringify(f.expected)}${f.forbidden ? `, never ${JSON.stringify(f.forbidden)}` : ''})${f.message && f.kind === 'paraphrase' ? `\n      ${f.message}` : ''}\n`);
    }
  }
  if (json) io.out(`${JSON.stringify(reports)}\n`);
  return ok ? 0 : 1;
}

// Run as a process (npm run eval), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runEntry('eval', main);
