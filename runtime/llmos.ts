/**
 * The kernel API:
 *
 *   const os = new LLMOS({ preset: 'development' });
 *   await os.boot();
 *   const r = await os.execute('drive forward 2 meters');   // r.mode, r.trace, r.params, r.steps ...
 *   await os.shutdown();
 *
 * boot() loads the board profile, opens the drivers behind the safety gate, loads the traces and
 * builds the matcher. execute() decides the mode and runs it; goals run one at a time.
 */
import { FailureStreak } from '../lib/line-log.js';
import { removeStaleTemps } from '../lib/stale-temps.js';
import { join } from 'node:path';
import { RealClock, VirtualClock, type Clock } from '../lib/clock.js';
import { Emitter } from '../lib/emitter.js';
import { fastHash } from '../lib/hash.js';
import { LlmosError, toLlmosError } from '../lib/errors.js';
import type { SimFaults } from '../drivers/sim/sim.js';
import type { BoardProfile } from '../drivers/types.js';
import { FileAudit, MemoryAudit, type AuditSink } from '../safety/audit.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import type { SafetyGate, CallSource, ToolCall, ToolResult } from '../safety/gate.js';
import { openSafetyGate } from '../safety/open.js';
import { buildToolCatalog, TOOL_UNITS, unitLookup, type ToolDefinition } from '../safety/tools.js';
import { loadConfig, type ConfigInput, type RuntimeConfig } from './config.js';
import { GoalReflexes } from './reflex-runs.js';
import { Dispatcher, type Decision } from './dispatcher.js';
import { CrystallizedRegistry } from './crystallize/registry.js';
import { Crystallizer } from './crystallize/crystallizer.js';
import { trustPolicy } from './crystallize/trust.js';
import { isProvisional } from './learn-checks.js';
import { traceHash } from './crystallize/codegen.js';
import { runCrystallized } from './executors/crystallized.js';
import { AgenticFollower } from './agentic.js';
import type { GoalBudget } from './ollama/budget.js';
import type { LlmAdapter } from './ollama/types.js';
import { SentienceEffects } from './sentience/effects.js';
import { Sentience } from './sentience/sentience.js';
import { replay, type ReplayResult } from './executors/follower.js';
import { createLogger, type Logger } from './logger.js';
import { SessionLog } from './memory/session-log.js';
import { FactStore } from '../lib/facts.js';
import { Matcher, type SerializedModel } from './matcher/matcher.js';
import type { ExecutionResult, StepResult } from './result.js';
import { TraceStore, type TraceLoadReport } from './trace-store.js';
import { armRunLimit, runLimitMs } from './run-limit.js';
import { bounded } from '../lib/bounded.js';
import { runStopWord, stopWordOf } from './stop-words.js';
import { traceStatsFile } from './trace-stats.js';

/** Each shutdown step after the safe state (hooks, the goal queue) gets at most this long. */
const SHUTDOWN_STEP_MS = 1000;

export interface LLMOSOptions {
  /** A loaded config, or the layers to load one from. */
  config?: RuntimeConfig;
  configFile?: string;
  overrides?: ConfigInput;
  clock?: Clock;
  logger?: Logger;
  /** Test hook: faults injected into the simulated driver. */
  simFaults?: SimFaults;
  /** A chat model other than the configured Ollama server (embedding the runtime). */
  llm?: LlmAdapter;
  /**
   * Called on every safety-watchdog heartbeat: the event loop runs and no driver write is stuck.
   * The systemd watchdog ping rides on it, so systemd sees exactly the health the watchdog sees.
   */
  onWatchdogBeat?: () => void;
}

/** One top-level goal's context, shared by its parts. */
interface RunContext {
  source: CallSource;
  signal: AbortSignal;
  budget?: GoalBudget;
  /** The model already split this goal: do not ask again for its parts. */
  splitDone?: boolean;
  /** The model chose this goal's parts: their replays are LLM-originated for hooks and budget. */
  chosenByModel?: boolean;
}

/** Wording that suggests several steps the deterministic splitter did not separate. */
const MULTI_STEP = /\band\b|,|\bwhile\b|\bbefore\b|\bafter\b/i;

export interface ExecuteOptions {
  source?: CallSource;
  /** Decide and report, do not execute (--explain). */
  explain?: boolean;
  /** Allow MIXED / LEARNER (run-agentic-follower). */
  allowLlm?: boolean;
  /** Explicitly allow LLM calls even in the sentience RECOVERY mode. */
  allowLlmInRecovery?: boolean;
  signal?: AbortSignal;
  /**
   * Wall-clock time (epoch ms) after which the goal must not start: checked when its turn comes,
   * not when it was queued (a remote command's deadline or v5 message expiry).
   */
  notAfter?: number;
}

export interface LlmosEvents {
  run_started: { run: string; goal: string; mode: string; trace: string | null; source: CallSource };
  step: { run: string; step: StepResult };
  run_finished: { run: string; result: ExecutionResult };
  /** AUTO_CREATIVE: the agentic follower proposes an improvement. */
  suggestion: { goal: string; text: string };
  /** A successful model run failed a learning check and was not saved as a trace. */
  learn_rejected: { goal: string; reason: string; code: 'ERR_LEARN_REJECTED' };
}

let runSeq = 0;

export class LLMOS {
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  readonly events = new Emitter<LlmosEvents>();
  readonly log: Logger;
  private readonly simFaults: SimFaults | undefined;
  private booted = false;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private current: AbortController | undefined;
  private _profile: BoardProfile | undefined;
  private _gate: SafetyGate | undefined;
  private _store: TraceStore | undefined;
  private _matcher: Matcher | undefined;
  private _dispatcher: Dispatcher | undefined;
  private _crystallized: CrystallizedRegistry | undefined;
  private _crystallizer: Crystallizer | undefined;
  private _sentience: Sentience | undefined;
  private _agentic: AgenticFollower | undefined;
  private readonly llm: LlmAdapter | undefined;
  private readonly onWatchdogBeat: (() => void) | undefined;
  private readonly shutdownHooks: Array<() => Promise<void>> = [];
  private resolveClosed: () => void = () => undefined;
  /** Resolves when shutdown() has finished. */
  readonly closedPromise: Promise<void> = new Promise((resolve) => { this.resolveClosed = resolve; });
  private _effects: SentienceEffects | undefined;
  private _catalog: Map<string, ToolDefinition> | undefined;
  private audit: AuditSink | undefined;
  /** Resolves with the watchdog process's pid once it watches (real-time runs only). */
  watchdogReady: Promise<number> | undefined;
  /** Report of the last trace load (bad files, warnings). */
  traceReport: TraceLoadReport = { loaded: 0, errors: [], warnings: [], fromCache: 0 };

  /** L2 memory (undefined when logging.sessions is off). */
  sessionLog: SessionLog | undefined;

  constructor(options: LLMOSOptions | ConfigInput = {}) {
    const opts: LLMOSOptions = isOptions(options) ? options : { overrides: options };
    this.config = opts.config ?? loadConfig({ ...(opts.configFile ? { file: opts.configFile } : {}), ...(opts.overrides ? { overrides: opts.overrides } : {}) });
    this.clock = opts.clock ?? (this.config.sim.time === 'virtual' ? new VirtualClock({ auto: true, wallOrigin: new Date() }) : new RealClock());
    this.log = opts.logger ?? createLogger(this.config.logging.level, { json: this.config.logging.format === 'json' });
    this.simFaults = opts.simFaults;
    this.llm = opts.llm;
    this.onWatchdogBeat = opts.onWatchdogBeat;
  }

  get gate(): SafetyGate { return this.need(this._gate, 'gate'); }

  /** L2 memory: one line per finished run; a log that cannot be written never fails a run. */
  private recordSessions(log: SessionLog): void {
    this.sessionLog = log;
    const streak = new FailureStreak(`session log ${log.file}`, (m) => this.log.warn(m));
    this.events.on('run_finished', ({ run, result }) => {
      try {
        log.append({
          ts: this.clock.wallNow().toISOString(), run, goal: result.goal, mode: result.mode, trace: result.trace, score: result.score,
          params: result.params, ok: result.ok, llm_calls: result.llm_calls, steps: result.steps.length, duration_ms: result.duration_ms,
          ...(result.error ? { error: result.error } : {}),
          ...this.reflexes?.sessionFields(run),
        });
        streak.succeeded();
      } catch (e) {
        streak.failed(e);
      }
    });
  }
  get traces(): TraceStore { return this.need(this._store, 'traces'); }
  get matcher(): Matcher { return this.need(this._matcher, 'matcher'); }
  get profile(): BoardProfile { return this.need(this._profile, 'profile'); }
  get catalog(): ReadonlyMap<string, ToolDefinition> { return this.need(this._catalog, 'catalog'); }
  get dispatcher(): Dispatcher { return this.need(this._dispatcher, 'dispatcher'); }
  get crystallized(): CrystallizedRegistry { return this.need(this._crystallized, 'crystallized'); }
  get crystallizer(): Crystallizer { return this.need(this._crystallizer, 'crystallizer'); }

  private need<T>(v: T | undefined, what: string): T {
    if (v === undefined) throw new LlmosError('ERR_INTERNAL', `LLMOS.${what} is not available before boot()`);
    return v;
  }

  async boot(): Promise<this> {
    if (this.booted) return this;
    const cfg = this.config;
    // Temp files of writers killed between write and rename (their pid is gone).
    removeStaleTemps([cfg.paths.traces], 0);
    removeStaleTemps([cfg.paths.state, cfg.paths.crystallized], 2);
    this._profile = loadBoardProfile(cfg.board, { cacheDir: join(cfg.paths.state, 'cache') });
    this._catalog = buildToolCatalog(this._profile, { systemTools: cfg.tools.system.enabled, facts: cfg.tools.facts, disabled: cfg.tools.disabled });
    if (cfg.logging.sessions) this.recordSessions(new SessionLog({ dir: join(cfg.paths.logs, 'sessions'), maxBytes: cfg.logging.session_max_bytes, keep: cfg.logging.session_keep }));
    this.audit = cfg.safety.audit ? new FileAudit(join(cfg.paths.state, 'audit.jsonl'), 200, (m) => this.log.warn(m)) : new MemoryAudit();
    this._gate = await openSafetyGate({
      ...(cfg.tools.facts ? { facts: new FactStore(join(cfg.paths.state, 'facts.json')) } : {}),
      profile: this._profile,
      clock: this.clock,
      catalog: this._catalog,
      audit: this.audit,
      estopFile: join(cfg.paths.state, 'estop.json'),
      deadmanMs: cfg.safety.deadman_ms,
      rampTickMs: cfg.safety.ramp_tick_ms,
      maxStepMs: cfg.safety.max_step_ms,
      speedScale: cfg.safety.speed_scale,
      confirmTimeoutMs: cfg.safety.confirm_timeout_ms,
      hookRules: cfg.safety.hooks,
      ...(cfg.tools.system.enabled ? { system: { workspace: cfg.paths.workspace, bashTimeoutMs: cfg.tools.system.bash_timeout_ms } } : {}),
      ...(cfg.sim.log ? { simLogFile: cfg.sim.log } : {}),
      ...(cfg.sim.world ? { simWorldFile: cfg.sim.world } : {}),
      ...(cfg.sim.twins ? { twins: true } : {}),
      ...(this.simFaults ? { simFaults: this.simFaults } : {}),
    });
    // Every e-stop (button, watchdog, MQTT, a failed stop) ends the running goal: it is a
    // failure, never a success to learn from or to count towards crystallization.
    this._gate.events.on('estop', ({ engaged, reason, source }) => {
      if (!engaged) return;
      this.stopGeneration++;
      this.current?.abort(new LlmosError('ERR_ESTOP_ENGAGED', `e-stop engaged by ${source}: ${reason}`));
    });
    this.reflexes = new GoalReflexes(this._gate, (e) => this.current?.abort(e));
    const catalog = this._catalog;
    const matcher = new Matcher({
      unitsFor: unitLookup(catalog),
      unitsKey: fastHash(JSON.stringify([[...catalog].map(([n, t]) => [n, t.units]), TOOL_UNITS])),
    });
    this._matcher = matcher;
    // The trace cache keeps each trace's matcher model, so a warm boot analyses nothing.
    if (cfg.safety.watchdog.enabled && this.clock instanceof RealClock) {
      // An independent process that stops what it can reach if this one stalls or dies.
      const stallMs = cfg.safety.deadman_ms;
      this.watchdogReady = this._gate.startWatchdog({
        stallMs,
        heartbeatMs: Math.max(5, Math.min(cfg.safety.watchdog.heartbeat_ms, Math.floor(stallMs / 4))),
        log: (m) => this.log.error(m),
        ...(this.onWatchdogBeat ? { onBeat: this.onWatchdogBeat } : {}),
      });
      this.watchdogReady.catch((e: unknown) => this.log.error(`safety watchdog: ${toLlmosError(e).message}`));
    }
    this._store = new TraceStore({
      dir: cfg.paths.traces,
      cacheDir: join(cfg.paths.state, 'cache'),
      // Run statistics live in the state directory, never in the trace files (this process owns it).
      statsFile: traceStatsFile(cfg.paths.state),
      compactStats: true,
      deriver: { key: matcher.modelKey, derive: (r) => matcher.serialize(matcher.buildModel(r)) },
    });
    this.traceReport = this._store.load();
    for (const e of this.traceReport.errors) this.log.warn(`skipped trace: ${e.message}`, { code: e.code });
    for (const w of this.traceReport.warnings) this.log.warn(w.message);
    const store = this._store;
    matcher.load(store.all(), (r) => store.derived(r.trace.goal_signature) as SerializedModel | undefined);
    if (cfg.sentience.enabled) {
      this._sentience = new Sentience({ config: cfg.sentience, clock: this.clock, file: join(cfg.paths.state, 'sentience.json') });
      this._sentience.load((m) => this.log.warn(`sentience: ${m}`));
      this._sentience.onSaveError = (m) => this.log.warn(`sentience: ${m}`);
      this._effects = new SentienceEffects({ sentience: this._sentience, gate: this._gate, config: cfg.sentience, profile: this._profile });
      void this._effects.start().catch(() => undefined);
    }
    // Crystallized functions: only their signatures are read now; code loads on first use.
    const registry = new CrystallizedRegistry({
      dir: cfg.paths.crystallized, log: (m) => this.log.warn(m),
      trust: trustPolicy(cfg.crystallization.trusted_sha256, (sig) => store.get(sig)?.trace),
    });
    for (const r of registry.scan()) if (!r.ok && r.error) this.log.warn(r.error);
    registry.watch();
    this._crystallized = registry;
    this._crystallizer = new Crystallizer({ registry, store: this._store, config: cfg.crystallization, now: () => this.clock.wallNow() });
    this._dispatcher = new Dispatcher(this._matcher, {
      followerThreshold: cfg.modes.follower_threshold,
      mixedThreshold: cfg.modes.mixed_threshold,
      hasCrystallized: (trace) => registry.has(trace.goal_signature, () => traceHash(trace)),
      provisional: isProvisional,
      misfit: (calls) => misfitFor(this.catalog, this._profile?.name ?? 'this board', calls),
    });
    // Nothing moves before the watchdog process watches: a runtime killed during its first motion
    // must find the watchdog there (on a slow board its start takes seconds). A watchdog that
    // cannot start was logged above; the runtime still runs, as before.
    await this.watchdogReady?.catch(() => undefined);
    this.booted = true;
    return this;
  }

  /** Decides the mode for a goal without executing anything. */
  decide(goal: string, options: Pick<ExecuteOptions, 'allowLlm' | 'allowLlmInRecovery'> = {}): Decision {
    const requested = { allowLlm: options.allowLlm ?? false, overrideLlm: options.allowLlmInRecovery ?? false };
    const policy = this._effects?.policy(requested) ?? { allowLlm: requested.allowLlm, learnedOnly: false };
    const decision = this.dispatcher.decide(goal, { allowLlm: policy.allowLlm, learnedOnly: policy.learnedOnly });
    if (decision.mode === 'REFUSED' && policy.reason && decision.error) {
      decision.error = new LlmosError(decision.error.code, `${decision.error.message} (${policy.reason})`);
    }
    return decision;
  }

  /** The sentience layer, when enabled. */
  get sentience(): Sentience | undefined {
    return this._sentience;
  }

  /** Whether the agentic follower may publish improvement suggestions now (AUTO_CREATIVE). */
  allowsSuggestions(): boolean {
    return this._effects?.allowsSuggestions() ?? false;
  }

  async execute(goal: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (!this.booted) throw new LlmosError('ERR_INTERNAL', 'call boot() before execute()');
    if (this.closed) throw new LlmosError('ERR_ABORTED', 'LLMOS is shut down');
    // Stop words act at once, ahead of the queue (runtime/stop-words.ts).
    const stop = stopWordOf(goal);
    if (stop) return this.withSentience(await runStopWord(this, goal, stop, options));
    // A stop (e-stop, link loss, stopMotion) after a goal was queued discards it: goals queued
    // before the stop must not start moving once it has passed.
    const generation = this.stopGeneration;
    const run = this.queue.then(() => {
      if (!options.explain && options.signal?.aborted) return this.refusedBeforeStart(goal, new LlmosError('ERR_ABORTED', 'interrupted before its turn came; not started'));
      if (!options.explain && generation !== this.stopGeneration) return this.refusedBeforeStart(goal, new LlmosError('ERR_ABORTED', 'a stop (e-stop, link loss or an operator) came after this goal was queued; not started'));
      if (!options.explain && options.notAfter !== undefined && Date.now() > options.notAfter) {
        return this.refusedBeforeStart(goal, new LlmosError('ERR_EXPIRED', `its turn came ${Date.now() - options.notAfter} ms after its deadline; not started`));
      }
      return this.run(goal, options);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private stopGeneration = 0;
  private reflexes: GoalReflexes | undefined;

  private refusedBeforeStart(goal: string, error: LlmosError): ExecutionResult {
    const result: ExecutionResult = { goal, mode: 'REFUSED', trace: null, score: 0, params: {}, ok: false, llm_calls: 0, steps: [], duration_ms: 0, error: errorInfo(error) };
    this.events.emit('run_finished', { run: `run-${++runSeq}`, result });
    return this.withSentience(result);
  }

  private async run(goal: string, options: ExecuteOptions): Promise<ExecutionResult> {
    const started = this.clock.now();
    const decision = this.decide(goal, options);
    if (options.explain) return this.withSentience(this.explainResult(decision, started));
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.current = controller;
    // Every run ends by its wall-time limit: what it moves stops like on any abort.
    const disarm = armRunLimit(runLimitMs(decision, this.config, this.profile), { clock: this.clock, controller, started, onStep: (f) => this.events.on('step', f) });
    try {
      const budget = needsLlm(decision) ? this.agentic().newBudget() : undefined;
      const result = await this.runDecision(decision, { source: options.source ?? 'api', signal: controller.signal, ...(budget ? { budget } : {}) }, started);
      if (controller.signal.aborted && result.ok) {
        // Stopped after its last step (an e-stop, a signal): not a success.
        result.ok = false;
        result.error = errorInfo(toLlmosError(controller.signal.reason, 'ERR_ABORTED'));
      }
      await this._effects?.afterRun(result);
      return this.withSentience(result);
    } finally {
      disarm();
      options.signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
      this.reflexes?.clear();
    }
  }

  private async runDecision(decision: Decision, run: RunContext, started: number): Promise<ExecutionResult> {
    const { source, signal } = run;
    const runId = `run-${++runSeq}`;
    this.reflexes?.add(runId);
    this.events.emit('run_started', { run: runId, goal: decision.goal, mode: decision.mode, trace: decision.candidate?.trace.goal_signature ?? null, source });
    let result: ExecutionResult;
    switch (decision.mode) {
      case 'FOLLOWER':
      case 'CRYSTALLIZED':
        result = await this.runLearned(decision, runId, source, signal, started, run.chosenByModel ? run.budget : undefined);
        break;
      case 'ORCHESTRATOR': {
        const parts: ExecutionResult[] = [];
        for (const part of decision.parts ?? []) {
          const r = await this.runDecision(part, run, this.clock.now());
          parts.push(r);
          if (!r.ok) break;
        }
        const failed = parts.find((p) => !p.ok);
        result = {
          ...this.baseResult(decision, started), parts, steps: parts.flatMap((p) => p.steps),
          llm_calls: parts.reduce((n, p) => n + p.llm_calls, 0), ok: !failed && parts.length === (decision.parts ?? []).length,
          ...(failed?.error ? { error: { code: failed.error.code, message: `part "${failed.goal}": ${failed.error.message}` } } : {}),
        };
        break;
      }
      case 'MIXED':
      case 'LEARNER':
        result = await this.runAgentic(decision, runId, run, started);
        break;
      default:
        result = { ...this.baseResult(decision, started), ok: false, error: errorInfo(decision.error ?? new LlmosError('ERR_NO_MATCH', 'refused')) };
    }
    result.duration_ms = round(this.clock.now() - started);
    this.events.emit('run_finished', { run: runId, result });
    return result;
  }

  /** MIXED and LEARNER through the local model; a multi-step goal may first be split by the model. */
  private async runAgentic(decision: Decision, runId: string, run: RunContext, started: number): Promise<ExecutionResult> {
    const budget = run.budget ?? this.agentic().newBudget();
    const before = budget.calls;
    const agentic = this.agentic();
    // The wall-time budget also ends a tool call in progress (a long wait or drive), not only
    // the next request: the run's signal fires when the goal's time is up.
    // (Real time only: a simulated clock jumps to its next timer whenever the process waits on the
    // model, so there the budget is checked at every call instead.)
    const deadline = new AbortController();
    const timer = this.clock instanceof RealClock
      ? this.clock.setTimeout(() => deadline.abort(new LlmosError('ERR_BUDGET_EXCEEDED', `the goal used its wall-time budget (${this.config.budget.wall_ms_per_goal} ms)`)), budget.remainingMs())
      : undefined;
    const signal = AbortSignal.any([run.signal, deadline.signal]);
    const ctx = { runId, signal, budget, onStep: (step: StepResult) => this.events.emit('step', { run: runId, step }) };
    try {
      if (decision.mode === 'LEARNER' && MULTI_STEP.test(decision.goal) && !run.splitDone) {
        // A split the model botches is not the goal failing: run it whole instead.
        const steps = await agentic.split(decision.goal, ctx).catch((e: unknown) => {
          if (toLlmosError(e).code !== 'ERR_LLM_BAD_OUTPUT') throw e;
          this.log.warn(`the model's split of "${decision.goal}" was unusable (${toLlmosError(e).message}); running it as one goal`);
          return [decision.goal];
        });
        if (steps.length > 1) {
          const parts = steps.map((g) => this.dispatcher.decide(g, { allowLlm: true, split: false }));
          const orchestrated: Decision = { goal: decision.goal, mode: 'ORCHESTRATOR', score: Math.min(...parts.map((p) => p.score)), params: {}, parts, nearest: [] };
          const r = await this.runDecision(orchestrated, { ...run, signal, budget, splitDone: true, chosenByModel: true }, started);
          return { ...r, llm_calls: budget.calls - before };
        }
      }
      const recalled = decision.mode === 'LEARNER' ? await agentic.recall(decision.goal, ctx) : undefined;
      const out = decision.mode === 'MIXED' ? await agentic.mixed(decision, ctx)
        : recalled ? await agentic.mixedFrom(decision.goal, recalled, ctx) : await agentic.learner(decision.goal, ctx);
      return {
        ...this.baseResult(decision, started),
        ...(recalled ? { mode: 'MIXED' as const, trace: recalled.record.trace.goal_signature, score: Math.round(recalled.similarity * 1000) / 1000, reason: `recalled by embeddings (similarity ${recalled.similarity.toFixed(2)})` } : {}),
        steps: out.steps, ok: out.ok, llm_calls: budget.calls - before,
        ...(out.learned ? { learned: out.learned } : {}),
        ...(out.error ? { error: errorInfo(out.error) } : {}),
      };
    } catch (e) {
      return { ...this.baseResult(decision, started), ok: false, llm_calls: budget.calls - before, error: errorInfo(toLlmosError(e, 'ERR_LLM_UNAVAILABLE')) };
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /** The agentic follower, created on first use (no LLM code is loaded by run-follower). */
  agentic(): AgenticFollower {
    if (!this._agentic) {
      const catalog = this.catalog;
      const sentience = this._sentience;
      this._agentic = new AgenticFollower({
        config: this.config, clock: this.clock, gate: this.gate, store: this.traces, matcher: this.matcher, log: this.log,
        unitsFor: unitLookup(catalog),
        internalState: () => sentience?.promptBlock(),
        allowsSuggestions: () => this.allowsSuggestions(),
        onSuggestion: (goal, text) => this.events.emit('suggestion', { goal, text }),
        onLearnRejected: (goal, reason) => this.events.emit('learn_rejected', { goal, reason, code: 'ERR_LEARN_REJECTED' }),
        ...(this.llm ? { llm: this.llm } : {}),
      });
    }
    return this._agentic;
  }

  /** FOLLOWER and CRYSTALLIZED: learned behaviour, no LLM. Both count towards the trace's statistics. */
  private async runLearned(decision: Decision, runId: string, source: CallSource, signal: AbortSignal, started: number, modelBudget?: GoalBudget): Promise<ExecutionResult> {
    const cand = decision.candidate;
    if (!cand || !decision.calls) throw new LlmosError('ERR_INTERNAL', `${decision.mode} decision without a trace`);
    const trace = cand.trace;
    const base = { gate: this.gate, clock: this.clock, workspace: this.config.paths.workspace, onStep: (step: StepResult) => this.events.emit('step', { run: runId, step }) };
    let mode = decision.mode;
    let fnName: string | undefined;
    let r: ReplayResult | undefined;
    if (mode === 'CRYSTALLIZED') {
      try {
        const { name, fn } = await this.crystallized.get(trace.goal_signature);
        fnName = name;
        r = await runCrystallized(fn, cand.params, { ...base, signal, ctx: { source: modelBudget ? 'llm' : 'crystallized', runId, signal, replay: true, ...(modelBudget ? { budget: modelBudget } : {}) } });
      } catch (e) {
        // A refused or broken function: this trace keeps working as FOLLOWER.
        this.log.warn(`crystallized function for "${trace.goal_text}" unavailable (${toLlmosError(e).message}); running the trace`);
        mode = 'FOLLOWER';
      }
    }
    // A learned trace the model picked (its split of a goal) is still the model's choice: hooks and
    // the LLM budget see it as such.
    r ??= await replay(decision.calls, trace.tool_calls, trace.preconditions, { ...base, ctx: { source: modelBudget ? 'llm' : 'trace', runId, signal, replay: true, ...(modelBudget ? { budget: modelBudget } : {}) } });
    try {
      const ok = r.ok && !signal.aborted;
      // A run cut short (a stop, a shutdown, a closed output) says nothing about the trace; one a
      // safety rule stopped (a reflex, an e-stop) still counts against it.
      const aborted = (signal.aborted && toLlmosError(signal.reason).code === 'ERR_ABORTED') || r.error?.code === 'ERR_ABORTED';
      if (!aborted) await this.traces.recordRun(trace.goal_signature, ok, this.clock.wallNow());
      if (ok && mode === 'FOLLOWER') {
        const made = await this.crystallizer.maybeAuto(trace.goal_signature);
        if (made) this.log.info(`crystallized "${trace.goal_text}" into ${made.fileName} (${made.name})`);
      }
    } catch (e) {
      this.log.warn(`could not update trace statistics or crystallize: ${toLlmosError(e).message}`);
    }
    return {
      ...this.baseResult(decision, started), mode, steps: r.steps, ok: r.ok,
      ...(fnName ? { crystallized: fnName } : {}),
      ...(r.error ? { error: errorInfo(r.error) } : {}),
    };
  }

  private baseResult(decision: Decision, started: number): ExecutionResult {
    const cand = decision.candidate;
    const serving = decision.mode === 'FOLLOWER' || decision.mode === 'CRYSTALLIZED' || decision.mode === 'MIXED';
    return {
      goal: decision.goal,
      mode: decision.mode,
      trace: serving && cand ? cand.trace.goal_signature : null,
      score: decision.score,
      params: decision.mode === 'REFUSED' ? {} : decision.params,
      ok: true,
      llm_calls: 0,
      steps: [],
      duration_ms: round(this.clock.now() - started),
      ...(serving && cand ? { goal_text: cand.trace.goal_text } : {}),
      ...(decision.didYouMean ? { did_you_mean: decision.didYouMean } : {}),
      ...(decision.mode === 'REFUSED' || decision.mode === 'MIXED' || decision.mode === 'LEARNER' ? { nearest: decision.nearest } : {}),
    };
  }

  private explainResult(decision: Decision, started: number): ExecutionResult {
    const result: ExecutionResult & { plan?: ToolCall[] } = {
      ...this.baseResult(decision, started), explain: true, ok: decision.mode !== 'REFUSED',
      ...(decision.error ? { error: errorInfo(decision.error) } : {}),
    };
    if (decision.calls) result.plan = decision.calls;
    if (decision.parts) result.parts = decision.parts.map((p) => this.explainResult(p, started));
    return result;
  }

  private withSentience(result: ExecutionResult): ExecutionResult {
    if (this._sentience) result.sentience = this._sentience.snapshot() as unknown as Record<string, unknown>;
    return result;
  }

  /**
   * Stops the current goal and brings actuators to their safe values, without latching (link
   * loss, operator "stop"). New goals may run afterwards.
   */
  async stopMotion(reason: string): Promise<void> {
    this.stopGeneration++;
    this.current?.abort(new LlmosError('ERR_ABORTED', `stopped: ${reason}`));
    await this.gate.safeState(reason);
  }

  /**
   * One tool call by an operator (`:call`, jog, teach, MQTT cmd/call): waits its turn behind
   * queued goals like a goal does (a stop that came meanwhile discards it; so does its deadline),
   * then passes the gate like any call (schema, bounds, hooks, e-stop, audit). Stops abort it as
   * they abort a goal, and whatever it left moving stops when it returns.
   */
  callTool(call: ToolCall, options: { source?: CallSource; notAfter?: number } = {}): Promise<ToolResult> {
    if (!this.booted) throw new LlmosError('ERR_INTERNAL', 'call boot() before callTool()');
    if (this.closed) return Promise.reject(new LlmosError('ERR_ABORTED', 'LLMOS is shut down'));
    const generation = this.stopGeneration;
    const done = this.queue.then(async () => {
      if (generation !== this.stopGeneration) throw new LlmosError('ERR_ABORTED', 'a stop (e-stop, link loss or an operator) came after this call was queued; not started');
      if (options.notAfter !== undefined && Date.now() > options.notAfter) throw new LlmosError('ERR_EXPIRED', `its turn came ${Date.now() - options.notAfter} ms after its deadline; not started`);
      const runId = `op-${++runSeq}`;
      const controller = new AbortController();
      this.current = controller;
      try {
        return await this.gate.call(call, { source: options.source ?? 'operator', runId, signal: controller.signal });
      } finally {
        if (this.current === controller) this.current = undefined;
        await this.gate.endRun(runId);
      }
    });
    this.queue = done.catch(() => undefined);
    return done;
  }

  /** Runs after shutdown has brought everything to rest (e.g. publish "offline"), bounded. */
  onShutdown(hook: () => Promise<void>): void {
    this.shutdownHooks.push(hook);
  }

  /** Engages the latched e-stop (all motion stops at once). */
  async estop(reason = 'operator', source = 'api'): Promise<void> {
    this.current?.abort(new LlmosError('ERR_ESTOP_ENGAGED', `e-stop: ${reason}`));
    await this.gate.engageEstop(reason, source);
  }

  /** Throws ERR_ESTOP_INPUT_ACTIVE (still engaged) while an e-stop input is active. */
  releaseEstop(source = 'api'): boolean {
    return this.gate.releaseEstop(source);
  }

  /**
   * Orderly stop, in the order that keeps the robot safe whatever else hangs: refuse new goals,
   * abort the current goal and discard every queued one, bring the actuators to their safe
   * values, and only then the hooks (MQTT `offline`, disconnect), each bounded.
   */
  async shutdown(reason = 'shutdown'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopGeneration++;
    this._gate?.refuseNewCalls(reason);
    this.current?.abort(new LlmosError('ERR_ABORTED', `shutting down: ${reason}`));
    await this._gate?.safeState(`shutting down: ${reason}`).catch(() => undefined);
    // Said at info level when something stopped it (a signal, a fault), not at every normal end.
    this.log[reason === 'done' ? 'debug' : 'info'](`shutdown (${reason}): actuators at safe values; then MQTT offline and disconnect (bounded)`);
    for (const hook of this.shutdownHooks.splice(0)) await bounded(hook(), SHUTDOWN_STEP_MS).catch((e: unknown) => this.log.warn(`shutdown hook: ${toLlmosError(e).message}`));
    await bounded(this.queue, SHUTDOWN_STEP_MS).catch(() => undefined);
    this._crystallized?.close();
    this._effects?.close();
    this._agentic?.close();
    await this._gate?.close(reason);
    await this._sentience?.flush();
    this.resolveClosed();
    await this._store?.flush();
    this.audit?.flushSync();
  }

  /** The pid of the safety watchdog process watching now (undefined: none). */
  get watchdogPid(): number | undefined {
    return this._gate?.watchdogPid;
  }

  /** Synchronous safe values for exit paths that cannot wait (see SafetyGate.failsafeSync). */
  failsafeSync(reason: string): number {
    return this._gate?.failsafeSync(reason) ?? 0;
  }

  /** Synchronous last resort for exit paths: flush what can be flushed. */
  flushSync(): void {
    this.audit?.flushSync();
  }
}

function needsLlm(d: Decision): boolean {
  return d.mode === 'MIXED' || d.mode === 'LEARNER' || (d.parts ?? []).some(needsLlm);
}

function isOptions(o: LLMOSOptions | ConfigInput): o is LLMOSOptions {
  return 'config' in o || 'configFile' in o || 'overrides' in o || 'clock' in o || 'logger' in o || 'simFaults' in o || 'llm' in o || 'onWatchdogBeat' in o;
}

function errorInfo(e: LlmosError): { code: string; message: string } {
  return { code: e.code, message: e.message };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The first call of a plan this board cannot run (unknown or disabled tool, unknown actuator or sensor). */
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
  return undefined;
}
