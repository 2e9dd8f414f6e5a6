#!/usr/bin/env node
/**
 * `npm run bench`: prints one JSON document with the performance figures that matter on a Pi.
 * Each section lives in scripts/bench/ and is listed in SECTIONS; `npm run bench -- match` runs
 * only the named sections.
 */
import { pathToFileURL } from 'node:url';
import { firstWriteBench } from './bench/core.js';
import { gateBench } from './bench/gate-overhead.js';
import { matchBench } from './bench/match.js';
import { startupBench } from './bench/startup.js';
import { decisionBench, gateAuditBench } from './bench/decision.js';
import { crystallizedBench } from './bench/crystallized.js';
import { johnnyFiveBench } from './bench/johnny-five.js';
import { mqttBench } from './bench/mqtt.js';
import { reflexBench } from './bench/reflex.js';
import { watchdogBench } from './bench/watchdog.js';
import { faultsBench } from './bench/faults.js';
import { runEntry, type MainIo } from './main-io.js';

export type BenchSection = () => Promise<Record<string, unknown>>;

const SECTIONS: Record<string, BenchSection> = {
  startup: startupBench,
  match: matchBench,
  first_write: firstWriteBench,
  gate: gateBench,
  gate_with_audit_log: gateAuditBench,
  decision: decisionBench,
  watchdog: watchdogBench,
  reflex_latency: reflexBench,
  crystallized_vs_follower: crystallizedBench,
  mqtt_round_trip: mqttBench,
  johnny_five_mock: johnnyFiveBench,
  faults: faultsBench,
};

/** The benchmark, importable: prints the JSON document on io's standard output; its exit code. */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  const wanted = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`bench (npm run bench, llmos bench): prints performance figures as JSON.\n\nUsage:\n  bench [section...]\nSections: ${Object.keys(SECTIONS).join(', ')}\n`);
    return 0;
  }
  const unknown = wanted.filter((w) => !Object.hasOwn(SECTIONS, w));
  if (unknown.length > 0) {
    io.err(`bench: ERR_USAGE: unknown section ${unknown.map((u) => `"${u}"`).join(', ')} (sections: ${Object.keys(SECTIONS).join(', ')})\n`);
    return 2;
  }
  const out: Record<string, unknown> = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: (await import('node:os')).cpus().length,
  };
  for (const [name, fn] of Object.entries(SECTIONS)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    out[name] = await fn();
  }
  io.out(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

// Run as a process (npm run bench, llmos bench), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runEntry('bench', main);
