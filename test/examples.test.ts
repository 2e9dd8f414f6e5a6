/**
 * Every example file a user starts from is valid against the schema it names, and names one that
 * exists, so an editor's completion and checks are right from the first keystroke.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packagePath } from '../lib/paths.js';
import { check, describeIssues } from '../lib/validate.js';
import { parseYaml } from '../lib/yaml-file.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { loadConfig } from '../runtime/config.js';

const boards = readdirSync(packagePath('boards')).filter((f) => f.endsWith('.yaml')).map((f) => packagePath('boards', f));

for (const file of [...boards, packagePath('config.example.yaml')]) {
  test(`${file.slice(packagePath('.').length + 1)}: names its schema and is valid against it`, () => {
    const text = readFileSync(file, 'utf8');
    const doc = parseYaml(text, file, 'ERR_CONFIG_INVALID') as Record<string, unknown>;
    const ref = doc['$schema'];
    assert.equal(typeof ref, 'string', 'the file names its schema');
    assert.ok(existsSync(resolve(dirname(file), ref as string)), `${ref as string} exists`);
    assert.match(text, /# yaml-language-server: \$schema=/);
    const kind = file.includes(`${join('boards', '')}`) ? 'board' : 'config';
    assert.equal(describeIssues(check(kind, doc)), '');
    if (kind === 'board') assert.ok(loadBoardProfile(file).actuators.size > 0);
    else assert.equal(loadConfig({ file }).device_id, 'my-robot');
  });
}
