/**
 * Boot wiring: loads the board profile, opens the drivers behind the safety gate, starts the
 * watchdog, loads the traces and builds the matcher, the crystallized registry and the dispatcher.
 * Each part is stored in `parts` as soon as it exists, so a boot that fails half-way leaves what
 * it opened where shutdown() finds and closes it.
 */
import { join, resolve } from 'node:path';
import { RealClock, type Clock } from '../lib/clock.js';
import { LlmosError, toLlmosError } from '../lib/errors.js';
import { check, describeIssues } from '../lib/validate.js';
import { FactStore } from '../lib/facts.js';
import { fastHash } from '../lib/hash.js';
import { removeStaleTemps, removeStaleTempsNamed } from '../lib/stale-temps.js';
import type { SimFaults } from '../drivers/sim/sim.js';
import type { BoardProfile } from '../drivers/types.js';
import type { TraceRecord } from './traces/types.js';
import { FileAudit, MemoryAudit, type AuditSink } from '../safety/audit.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import type { SafetyGate, ToolCall } from '../safety/gate.js';
import { openSafetyGate } from '../safety/open.js';
import { buildToolCatalog, TOOL_UNITS, unitLookup, type ToolDefinition } from '../safety/tools/index.js';
import type { RuntimeConfig } from './config.js';
import { traceHash } from './crystallize/codegen.js';
import { Crystallizer } from './crystallize/crystallizer.js';
import { CrystallizedRegistry } from './crystallize/registry.js';
import { trustPolicy } from './crystallize/trust.js';
import { Dispatcher } from './dispatcher.js';
import { isProvisional } from './traces/learn-checks.js';
import type { Logger } from './logger.js';
import { Matcher, type SerializedModel } from './matcher/matcher.js';
import { SessionLog } from './memory/session-log.js';
import { GoalReflexes } from './reflex-runs.js';
import { SentienceEffects } from './sentience/effects.js';
import { Sentience } from './sentience/sentience.js';
import { TraceStore, type TraceLoadReport } from './traces/store.js';
import { traceStatsFile } from './traces/stats.js';

/** The runtime's parts, created by boot(). */
export interface BootParts {
  profile: BoardProfile;
  catalog: Map<string, ToolDefinition>;
  audit: AuditSink;
  gate: SafetyGate;
  reflexes: GoalReflexes;
  matcher: Matcher;
  /** Resolves with the watchdog process's pid once it watches (real-time runs only). */
  watchdogReady: Promise<number>;
  store: TraceStore;
  traceReport: TraceLoadReport;
  sentience: Sentience;
  effects: SentienceEffects;
  crystallized: CrystallizedRegistry;
  crystallizer: Crystallizer;
  dispatcher: Dispatcher;
  /** With --sim-log: the file and the clock reading that is its t=0 (run timelines align to it). */
  simLog: { file: string; origin: number };
}

export interface BootDeps {
  config: RuntimeConfig;
  clock: Clock;
  log: Logger;
  simFaults?: SimFaults | undefined;
  onWatchdogBeat?: (() => void) | undefined;
  /** L2 memory (logging.sessions): called before the gate opens, so its listener comes first. */
  recordSessions: (log: SessionLog) => void;
  /** An e-stop engaged (button, watchdog, MQTT, a failed stop): the running goal must end. */
  onEstop: (error: LlmosError) => void;
  /** Aborts the running goal (a goal reflex fired). */
  abortCurrent: (error: LlmosError) => void;
}

export async function bootParts(parts: Partial<BootParts>, deps: BootDeps): Promise<void> {
  const { config: cfg, clock, log } = deps;
  // Temp files of writers killed between write and rename (their pid is gone); the traces
  // directory's are removed from the store's own listing below (one readdir of 10k names, not two).
  removeStaleTemps([cfg.paths.state, cfg.paths.crystallized], 2);
  const profile = parts.profile = loadBoardProfile(cfg.board, { cacheDir: join(cfg.paths.state, 'cache') });
  const catalog = parts.catalog = buildToolCatalog(profile, { systemTools: cfg.tools.system.enabled, facts: cfg.tools.facts, disabled: cfg.tools.disabled });
  if (cfg.logging.sessions) deps.recordSessions(new SessionLog({ dir: join(cfg.paths.logs, 'sessions'), maxBytes: cfg.logging.session_max_bytes, keep: cfg.logging.session_keep }));
  parts.audit = cfg.safety.audit ? new FileAudit(join(cfg.paths.state, 'audit.jsonl'), 200, (m) => log.warn(m)) : new MemoryAudit();
  if (cfg.sim.log) parts.simLog = { file: resolve(cfg.sim.log), origin: clock.now() };
  const gate = parts.gate = await openSafetyGate({
    ...(cfg.tools.facts ? { facts: new FactStore(join(cfg.paths.state, 'facts.json')) } : {}),
    profile,
    clock,
    catalog,
    audit: parts.audit,
    estopFile: join(cfg.paths.state, 'estop.json'),
    deadmanMs: cfg.safety.deadman_ms,
    rampTickMs: cfg.safety.ramp_tick_ms,
    maxStepMs: cfg.safety.max_step_ms,
    speedScale: cfg.safety.speed_scale,
    confirmTimeoutMs: cfg.safety.confirm_timeout_ms,
    hookRules: cfg.safety.hooks,
    ...(cfg.tools.system.enabled ? { system: { workspace: cfg.paths.workspace, bashTimeoutMs: cfg.tools.system.bash_timeout_ms } } : {}),
    ...(parts.simLog ? { simLogFile: parts.simLog.file, simLogOrigin: parts.simLog.origin } : {}),
    ...(cfg.sim.world ? { simWorldFile: cfg.sim.world } : {}),
    ...(cfg.sim.twins ? { twins: true } : {}),
    ...(deps.simFaults ? { simFaults: deps.simFaults } : {}),
  });
  // Every e-stop (button, watchdog, MQTT, a failed stop) ends the running goal: it is a
  // failure, never a success to learn from or to count towards crystallization.
  gate.events.on('estop', ({ engaged, reason, source }) => {
    if (!engaged) return;
    deps.onEstop(new LlmosError('ERR_ESTOP_ENGAGED', `e-stop engaged by ${source}: ${reason}`));
  });
  parts.reflexes = new GoalReflexes(gate, deps.abortCurrent);
  const matcher = parts.matcher = new Matcher({
    unitsFor: unitLookup(catalog),
    unitsKey: fastHash(JSON.stringify([[...catalog].map(([n, t]) => [n, t.units]), TOOL_UNITS])),
  });
  // The trace cache keeps each trace's matcher model, so a warm boot analyses nothing.
  if (cfg.safety.watchdog.enabled && clock instanceof RealClock) {
    // An independent process that stops what it can reach if this one stalls or dies.
    const stallMs = cfg.safety.deadman_ms;
    parts.watchdogReady = gate.startWatchdog({
      stallMs,
      heartbeatMs: Math.max(5, Math.min(cfg.safety.watchdog.heartbeat_ms, Math.floor(stallMs / 4))),
      log: (m) => log.error(m),
      ...(deps.onWatchdogBeat ? { onBeat: deps.onWatchdogBeat } : {}),
    });
    parts.watchdogReady.catch((e: unknown) => log.error(`safety watchdog: ${toLlmosError(e).message}`));
  }
  const store = parts.store = new TraceStore({
    dir: cfg.paths.traces,
    cacheDir: join(cfg.paths.state, 'cache'),
    // Run statistics live in the state directory, never in the trace files (this process owns it).
    statsFile: traceStatsFile(cfg.paths.state),
    compactStats: true,
    deriver: { key: matcher.modelKey, derive: (r) => matcher.serialize(matcher.buildModel(r)), summarize: (r, d) => matcher.summarize(r, d as SerializedModel) },
  });
  const report = parts.traceReport = store.load();
  removeStaleTempsNamed(cfg.paths.traces, store.tempNames());
  for (const e of report.errors) log.warn(`skipped trace: ${e.message}`, { code: e.code });
  for (const w of report.warnings) log.warn(w.message);
  // Traces from the cache are indexed from its header; each is read when a goal first scores it.
  const snapshot = store.indexSnapshot();
  const modelOf = (r: TraceRecord): SerializedModel | undefined => store.derivedFor(r) as SerializedModel | undefined;
  if (snapshot) matcher.loadSnapshot(snapshot, (d) => store.get(snapshot.sigs[d] as string), modelOf);
  else matcher.load(store.all(), modelOf, (r) => store.summaryFor(r));
  if (cfg.sentience.enabled) {
    const sentience = parts.sentience = new Sentience({ config: cfg.sentience, clock, file: join(cfg.paths.state, 'sentience.json') });
    sentience.load((m) => log.warn(`sentience: ${m}`));
    sentience.onSaveError = (m) => log.warn(`sentience: ${m}`);
    const effects = parts.effects = new SentienceEffects({ sentience, gate, config: cfg.sentience, profile });
    void effects.start().catch(() => undefined);
  }
  // Crystallized functions: only their signatures are read now; code loads on first use.
  const registry = parts.crystallized = new CrystallizedRegistry({
    dir: cfg.paths.crystallized, log: (m) => log.warn(m),
    trust: trustPolicy(cfg.crystallization.trusted_sha256, (sig) => store.get(sig)?.trace),
  });
  for (const r of registry.scan()) if (!r.ok && r.error) log.warn(r.error);
  registry.watch();
  parts.crystallizer = new Crystallizer({ registry, store, config: cfg.crystallization, now: () => clock.wallNow() });
  parts.dispatcher = new Dispatcher(matcher, {
    followerThreshold: cfg.modes.follower_threshold,
    mixedThreshold: cfg.modes.mixed_threshold,
    hasCrystallized: (trace) => registry.has(trace.goal_signature, () => traceHash(trace)),
    provisional: isProvisional,
    misfit: (calls) => misfitFor(catalog, profile.name, calls),
  });
  // Nothing moves before the watchdog process watches: a runtime killed during its first motion
  // must find the watchdog there (on a slow board its start takes seconds). A watchdog that
  // cannot start was logged above; the runtime still runs, as before.
  await parts.watchdogReady?.catch(() => undefined);
}

/** The first call of a plan this board cannot run (unknown or disabled tool, unknown actuator or sensor, bad arguments). */
export function misfitFor(catalog: ReadonlyMap<string, ToolDefinition>, board: string, calls: readonly ToolCall[]): string | undefined {
  for (const [i, call] of calls.entries()) {
    const def = catalog.get(call.name);
    if (!def) return `step ${i + 1} uses the tool ${call.name}, which board "${board}" with this configuration does not offer (a tool the board lacks, or one turned off: tools.disabled, tools.system, tools.facts)`;
    for (const key of ['actuator', 'sensor'] as const) {
      const value = call.args[key];
      const allowed = def.parameters.properties[key]?.['enum'];
      if (typeof value === 'string' && Array.isArray(allowed) && !allowed.includes(value)) {
        return `step ${i + 1} (${call.name}) uses the ${key} "${value}", which board "${board}" does not have (it has ${allowed.join(', ')})`;
      }
    }
  }
  // Checked for every step before the first moves: a bad argument in step 3 must not leave the
  // robot half-way through steps 1 and 2 (the gate checks again as each call runs).
  for (const [i, call] of calls.entries()) {
    const issues = check(`tool_${call.name}`, call.args);
    if (issues.length > 0) return `step ${i + 1} (${call.name}) has arguments its tool refuses: ${describeIssues(issues)}`;
  }
  return undefined;
}
