/**
 * The kernel API:
 *
 *   const os = new LLMOS({ overrides: { preset: 'development' } });
 *   await os.boot();
 *   const r = await os.execute('drive forward 2 meters');   // r.mode, r.trace, r.params, r.steps ...
 *   await os.shutdown();
 *
 * boot() loads the board profile, opens the drivers behind the safety gate, loads the traces and
 * builds the matcher. execute() decides the mode and runs it; goals run one at a time.
 */
import { FailureStreak } from '../lib/line-log.js';
import { RealClock, VirtualClock, type Clock } from '../lib/clock.js';
import { Emitter } from '../lib/emitter.js';
import { LlmosError, toLlmosError } from '../lib/errors.js';
import type { SimFaults } from '../drivers/sim/sim.js';
import type { BoardProfile } from '../drivers/types.js';
import type { SafetyGate, CallSource, ToolCall, ToolResult } from '../safety/gate.js';
import { unitLookup, type ToolDefinition } from '../safety/tools/index.js';
import { loadConfig, type ConfigInput, type RuntimeConfig } from './config.js';
import { bootParts, type BootParts } from './boot.js';
import type { Dispatcher, Decision } from './dispatcher.js';
import type { CrystallizedRegistry } from './crystallize/registry.js';
import type { Crystallizer } from './crystallize/crystallizer.js';
import { AgenticFollower } from './executors/agentic/index.js';
import type { LlmAdapter } from './ollama/types.js';
import type { Sentience } from './sentience/sentience.js';
import { createLogger, type Logger } from './logger.js';
import type { SessionLog } from './memory/session-log.js';
import { RunTimeline } from './memory/run-timeline.js';
import type { Matcher } from './matcher/matcher.js';
import type { ExecutionResult, StepResult } from './result.js';
import type { TraceStore, TraceLoadReport } from './traces/store.js';
import { armRunLimit, runLimitMs } from './run-limit.js';
import { bounded } from '../lib/bounded.js';
import { embeddedStopOf, mayBeDeviceStop, runStopWord, stopWordOf } from './stop-words.js';
import { EXECUTORS, type ExecutorHost, type GoalContext } from './executors/index.js';
import { errorInfo, explainResult, refusedResult, round } from './executors/results.js';

export { misfitFor } from './boot.js';

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

export class LLMOS implements ExecutorHost {
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  readonly events = new Emitter<LlmosEvents>();
  readonly log: Logger;
  private readonly simFaults: SimFaults | undefined;
  private booted = false;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private current: AbortController | undefined;
  /** What boot() created; filled part by part, so shutdown() closes what a failed boot opened. */
  private readonly parts: Partial<BootParts> = {};
  private _agentic: AgenticFollower | undefined;
  private readonly llm: LlmAdapter | undefined;
  private readonly onWatchdogBeat: (() => void) | undefined;
  private readonly shutdownHooks: Array<() => Promise<void>> = [];
  private resolveClosed: () => void = () => undefined;
  /** Resolves when shutdown() has finished. */
  readonly closedPromise: Promise<void> = new Promise((resolve) => { this.resolveClosed = resolve; });
  private stopGeneration = 0;

  /** L2 memory (undefined when logging.sessions is off). */
  sessionLog: SessionLog | undefined;
  /** Each run's steps, events, sentience and readings for its session-log line. */
  private timeline: RunTimeline | undefined;

  constructor(opts: LLMOSOptions = {}) {
    this.config = opts.config ?? loadConfig({ ...(opts.configFile ? { file: opts.configFile } : {}), ...(opts.overrides ? { overrides: opts.overrides } : {}) });
    this.clock = opts.clock ?? (this.config.sim.time === 'virtual' ? new VirtualClock({ auto: true, wallOrigin: new Date() }) : new RealClock());
    this.log = opts.logger ?? createLogger(this.config.logging.level, { json: this.config.logging.format === 'json' });
    this.simFaults = opts.simFaults;
    this.llm = opts.llm;
    this.onWatchdogBeat = opts.onWatchdogBeat;
  }

  get gate(): SafetyGate { return this.need(this.parts.gate, 'gate'); }
  get traces(): TraceStore { return this.need(this.parts.store, 'traces'); }
  get matcher(): Matcher { return this.need(this.parts.matcher, 'matcher'); }
  get profile(): BoardProfile { return this.need(this.parts.profile, 'profile'); }
  get catalog(): ReadonlyMap<string, ToolDefinition> { return this.need(this.parts.catalog, 'catalog'); }
  get dispatcher(): Dispatcher { return this.need(this.parts.dispatcher, 'dispatcher'); }
  get crystallized(): CrystallizedRegistry { return this.need(this.parts.crystallized, 'crystallized'); }
  get crystallizer(): Crystallizer { return this.need(this.parts.crystallizer, 'crystallizer'); }
  /** Resolves with the watchdog process's pid once it watches (real-time runs only). */
  get watchdogReady(): Promise<number> | undefined { return this.parts.watchdogReady; }
  /** Report of the last trace load (bad files, warnings). */
  get traceReport(): TraceLoadReport { return this.parts.traceReport ?? { loaded: 0, errors: [], warnings: [], fromCache: 0 }; }

  private need<T>(v: T | undefined, what: string): T {
    if (v === undefined) throw new LlmosError('ERR_INTERNAL', `LLMOS.${what} is not available before boot()`);
    return v;
  }

  /** L2 memory: one line per finished run; a log that cannot be written never fails a run. */
  private recordSessions(log: SessionLog): void {
    this.sessionLog = log;
    const streak = new FailureStreak(`session log ${log.file}`, (m) => this.log.warn(m));
    this.events.on('run_finished', ({ run, result }) => {
      try {
        log.append({
          ...this.timeline?.finish(run, result.duration_ms),
          ts: this.clock.wallNow().toISOString(), run, goal: result.goal, mode: result.mode, trace: result.trace, score: result.score,
          params: result.params, ok: result.ok, llm_calls: result.llm_calls, steps: result.steps.length, duration_ms: result.duration_ms,
          ...(result.error ? { error: result.error } : {}),
          ...this.parts.reflexes?.sessionFields(run),
        });
        streak.succeeded();
      } catch (e) {
        streak.failed(e);
      }
    });
  }

  async boot(): Promise<this> {
    if (this.booted) return this;
    await bootParts(this.parts, {
      config: this.config, clock: this.clock, log: this.log, simFaults: this.simFaults, onWatchdogBeat: this.onWatchdogBeat,
      recordSessions: (log) => this.recordSessions(log),
      onEstop: (e) => { this.stopGeneration++; this.current?.abort(e); },
      abortCurrent: (e) => this.current?.abort(e),
    });
    if (this.sessionLog) {
      this.timeline = new RunTimeline({ clock: this.clock, gate: this.gate, events: this.events, sentience: this.parts.sentience, simLog: this.parts.simLog });
    }
    this.booted = true;
    return this;
  }

  /** 'STOP' / 'ESTOP' when the goal is a stop request that acts ahead of the queue. */
  stopOf(goal: string): 'STOP' | 'ESTOP' | undefined {
    return stopWordOf(goal) ?? (mayBeDeviceStop(goal) && this.dispatcher.decide(goal, { allowLlm: false }).mode === 'STOP' ? 'STOP' : undefined);
  }

  /** Decides the mode for a goal without executing anything. */
  decide(goal: string, options: Pick<ExecuteOptions, 'allowLlm' | 'allowLlmInRecovery'> = {}): Decision {
    const requested = { allowLlm: options.allowLlm ?? false, overrideLlm: options.allowLlmInRecovery ?? false };
    const policy = this.parts.effects?.policy(requested) ?? { allowLlm: requested.allowLlm, learnedOnly: false };
    const decision = this.dispatcher.decide(goal, { allowLlm: policy.allowLlm, learnedOnly: policy.learnedOnly });
    if (decision.mode === 'REFUSED' && policy.reason && decision.error) {
      decision.error = new LlmosError(decision.error.code, `${decision.error.message} (${policy.reason})`);
    }
    return decision;
  }

  /** The sentience layer, when enabled. */
  get sentience(): Sentience | undefined {
    return this.parts.sentience;
  }

  /** Whether the agentic follower may publish improvement suggestions now (AUTO_CREATIVE). */
  allowsSuggestions(): boolean {
    return this.parts.effects?.allowsSuggestions() ?? false;
  }

  async execute(goal: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (!this.booted) throw new LlmosError('ERR_INTERNAL', 'call boot() before execute()');
    if (this.closed) throw new LlmosError('ERR_ABORTED', 'LLMOS is shut down');
    // Stop words act at once, ahead of the queue (runtime/stop-words.ts).
    const stop = this.stopOf(goal);
    if (stop) return this.withSentience(await runStopWord(this, goal, stop, options));
    const embedded = embeddedStopOf(goal);
    if (embedded) return this.withSentience(await runStopWord(this, goal, embedded, { ...options, embedded: true }));
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

  private refusedBeforeStart(goal: string, error: LlmosError): ExecutionResult {
    const result = refusedResult(goal, error);
    this.events.emit('run_finished', { run: `run-${++runSeq}`, result });
    return this.withSentience(result);
  }

  private async run(goal: string, options: ExecuteOptions): Promise<ExecutionResult> {
    const started = this.clock.now();
    const decision = this.decide(goal, options);
    if (options.explain) return this.withSentience(explainResult(decision, started, () => this.clock.now()));
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
      await this.parts.effects?.afterRun(result);
      return this.withSentience(result);
    } finally {
      disarm();
      options.signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
      this.parts.reflexes?.clear();
    }
  }

  /** Runs one decision (a goal or a part of one) by the executor of its mode (executors/index.ts). */
  async runDecision(decision: Decision, goal: GoalContext, started: number): Promise<ExecutionResult> {
    const runId = `run-${++runSeq}`;
    this.parts.reflexes?.add(runId);
    this.events.emit('run_started', { run: runId, goal: decision.goal, mode: decision.mode, trace: decision.candidate?.trace.goal_signature ?? null, source: goal.source });
    const readOnly = decision.readOnly;
    // A question answered by the model: its run reads, it never moves (refused at the gate, audited).
    const unhook = readOnly === undefined ? undefined : this.gate.addHook('pre_tool_use', (call) => {
      if (call.run === runId && call.definition?.kind === 'actuation') throw new LlmosError('ERR_NOT_A_COMMAND', `${call.tool} refused: ${readOnly}`);
      return 'ALLOW';
    });
    const result = await EXECUTORS[decision.mode](this, { ...goal, decision, runId, started }).finally(() => unhook?.());
    result.duration_ms = round(this.clock.now() - started);
    this.events.emit('run_finished', { run: runId, result });
    return result;
  }

  /** Reports a step of a run (ExecutorHost). */
  step(runId: string, step: StepResult): void {
    this.events.emit('step', { run: runId, step });
  }

  /** The agentic follower, created on first use (no LLM code is loaded by run-follower). */
  agentic(): AgenticFollower {
    if (!this._agentic) {
      const catalog = this.catalog;
      const sentience = this.parts.sentience;
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

  private withSentience(result: ExecutionResult): ExecutionResult {
    if (this.parts.sentience) result.sentience = this.parts.sentience.snapshot() as unknown as Record<string, unknown>;
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
    this.parts.gate?.refuseNewCalls(reason);
    this.current?.abort(new LlmosError('ERR_ABORTED', `shutting down: ${reason}`));
    await this.parts.gate?.safeState(`shutting down: ${reason}`).catch(() => undefined);
    // Said at info level when something stopped it (a signal, a fault), not at every normal end.
    this.log[reason === 'done' ? 'debug' : 'info'](`shutdown (${reason}): actuators at safe values; then MQTT offline and disconnect (bounded)`);
    for (const hook of this.shutdownHooks.splice(0)) await bounded(hook(), SHUTDOWN_STEP_MS).catch((e: unknown) => this.log.warn(`shutdown hook: ${toLlmosError(e).message}`));
    await bounded(this.queue, SHUTDOWN_STEP_MS).catch(() => undefined);
    this.parts.crystallized?.close();
    this.parts.effects?.close();
    this._agentic?.close();
    await this.parts.gate?.close(reason);
    await this.parts.sentience?.flush();
    this.resolveClosed();
    await this.parts.store?.flush();
    this.parts.audit?.flushSync();
  }

  /** The pid of the safety watchdog process watching now (undefined: none). */
  get watchdogPid(): number | undefined {
    return this.parts.gate?.watchdogPid;
  }

  /** Synchronous safe values for exit paths that cannot wait (see SafetyGate.failsafeSync). */
  failsafeSync(reason: string): number {
    return this.parts.gate?.failsafeSync(reason) ?? 0;
  }

  /** Synchronous last resort for exit paths: flush what can be flushed. */
  flushSync(): void {
    this.parts.audit?.flushSync();
  }
}

function needsLlm(d: Decision): boolean {
  return d.mode === 'MIXED' || d.mode === 'LEARNER' || (d.parts ?? []).some(needsLlm);
}
