import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { evaluate, loadEvalSet } from '../scripts/matcher-eval.js';

const sets = ['matcher-eval.yaml', 'matcher-holdout.yaml'].map((f) => packagePath('test', 'fixtures', f)).filter(existsSync);

for (const file of sets) {
  test(`matcher evaluation (${file.split('/').pop()}): no false FOLLOWER on hard negatives, recall >= 0.9`, () => {
    const set = loadEvalSet(file);
    const report = evaluate(set);
    assert.ok(report.cases >= 200, `at least 200 labelled pairs, got ${report.cases}`);
    assert.equal(report.false_follower_on_negatives, 0, JSON.stringify(report.failures.filter((f) => f.kind === 'negative'), null, 1));
    assert.ok(report.recall >= 0.9, `recall ${report.recall}: ${JSON.stringify(report.failures.filter((f) => f.kind === 'paraphrase').map((f) => f.goal))}`);
    assert.equal(report.precision, 1);
  });
}
