#!/usr/bin/env node
/**
 * Fetches the real counterparts the firmata and consumer suites run against, from the npm
 * registry, into .cache/counterparts/ (never committed: they are other projects' files):
 *   firmata   StandardFirmata 2.4 for the Uno, the test fixture avrgirl-arduino@5.0.1 ships
 *             (junk/hex/uno/StandardFirmata.cpp.hex), taken out of the package tarball;
 *   node-red  Node-RED 4.1 (runs on Node 20; 5.x needs Node 22.9), installed in its own prefix
 *             so its dependencies stay out of the project's lockfile.
 * Usage: node scripts/ci/counterparts.mjs [firmata] [node-red]   (no argument: both)
 * Idempotent; each result is moved into place only when complete.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = process.env.LLMOS_COUNTERPARTS ?? join(ROOT, '.cache', 'counterparts');
export const AVRGIRL = 'avrgirl-arduino@5.0.1';
export const HEX = join(CACHE, 'StandardFirmata-2.4-uno.hex');
/** sha256 of junk/hex/uno/StandardFirmata.cpp.hex in avrgirl-arduino 5.0.1. */
export const HEX_SHA256 = '6d57ea7cf30e26c9c2f3a01ee37907d2c951f8bc9c27f84dddad12fa9c8b8f36';
export const NODE_RED = 'node-red@4.1.15';
export const NODE_RED_DIR = join(CACHE, 'node-red');
export const NODE_RED_MAIN = join(NODE_RED_DIR, 'node_modules', 'node-red', 'red.js');

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function fetchFirmata() {
  if (existsSync(HEX)) return HEX;
  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(join(CACHE, '.avrgirl-'));
  try {
    const file = execFileSync(npm, ['pack', AVRGIRL, '--silent', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1);
    execFileSync('tar', ['xzf', join(tmp, file), '-C', tmp, 'package/junk/hex/uno/StandardFirmata.cpp.hex']);
    const hex = join(tmp, 'package/junk/hex/uno/StandardFirmata.cpp.hex');
    const sum = createHash('sha256').update(readFileSync(hex)).digest('hex');
    if (sum !== HEX_SHA256) throw new Error(`${AVRGIRL} StandardFirmata.cpp.hex has sha256 ${sum}, expected ${HEX_SHA256}`);
    renameSync(hex, HEX);
    return HEX;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function fetchNodeRed() {
  if (existsSync(NODE_RED_MAIN)) return NODE_RED_MAIN;
  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(join(CACHE, '.node-red-'));
  try {
    execFileSync(npm, ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--no-save', '--omit=optional', '--ignore-scripts', NODE_RED], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    rmSync(NODE_RED_DIR, { recursive: true, force: true });
    renameSync(tmp, NODE_RED_DIR);
    return NODE_RED_MAIN;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const want = process.argv.slice(2);
  const all = want.length === 0;
  if (all || want.includes('firmata')) console.log(`StandardFirmata: ${fetchFirmata()}`);
  if (all || want.includes('node-red')) console.log(`Node-RED: ${fetchNodeRed()}`);
}
