#!/usr/bin/env node
/** `npm run eval [-- FILE] [--json]`: precision and recall of the matcher on a labelled set. */
import { packagePath } from '../lib/paths.js';
import { evaluate, loadEvalSet } from './matcher-eval.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const file = args.find((a) => !a.startsWith('--')) ?? packagePath('test', 'fixtures', 'matcher-eval.yaml');
const report = evaluate(loadEvalSet(file));
if (json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  process.stdout.write(`cases ${report.cases} (paraphrases ${report.paraphrases}, negatives ${report.negatives})\n`);
  process.stdout.write(`precision ${report.precision}  recall ${report.recall}  false FOLLOWER on negatives ${report.false_follower_on_negatives}\n`);
  for (const f of report.failures) {
    process.stdout.write(`  ${f.kind === 'paraphrase' ? 'MISSED ' : 'WRONG  '} ${JSON.stringify(f.goal)} -> ${f.mode} ${f.served ? JSON.stringify(f.served) : ''} ${f.score}  (expected ${f.expected === null ? 'no follower' : JSON.stringify(f.expected)}${f.forbidden ? `, never ${JSON.stringify(f.forbidden)}` : ''})\n`);
  }
}
process.exitCode = report.false_follower_on_negatives === 0 && report.recall >= 0.9 ? 0 : 1;
