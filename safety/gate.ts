/**
 * The safety gate: every tool call from every source (trace replay, crystallized function, LLM,
 * MQTT, API) enters here, and nothing else can reach a driver. In order, a call is checked for:
 * a known and enabled tool, well-formed arguments, budget, e-stop, pre_tool_use hooks (ALLOW,
 * BLOCK, ASK), then its handler applies the actuator limits; post_tool_use hooks see the result.
 * Every decision goes to the audit log.
 */
import type { FactStore } from '../lib/facts.js';
import { RealClock, type Clock } from '../lib/clock.js';
import { Emitter } from '../lib/emitter.js';
import { LlmosError, toLlmosError } from '../lib/errors.js';
import { check, describeIssues } from '../lib/validate.js';
import type { BoardProfile, Driver } from '../drivers/types.js';
import { ActuatorBank, type BankEvents } from './actuators.js';
import type { AuditEntry, AuditSink, Decision } from './audit.js';
import { ConfirmationBroker } from './confirm.js';
import type { CallSource, HookInput, HookRule, PostToolUseHook, PreToolUseHook } from './hooks.js';
import { HookRunner } from './hook-runner.js';
import { Flight } from './flight.js';
import { SafetyLatch } from './latch.js';
import { CommandRateLimiter } from './interlocks.js';
import { plainArgs } from './plain-args.js';
import { ReflexEngine, type ReflexEvent } from './reflex-engine.js';
import { resolveImplicit } from './resolve-call.js';
import type { SystemToolsOptions } from './system-tools.js';
import { handlerOf, readSensor, SYSTEM_TOOLS, toolNamed, type HandlerEnv, type ToolDefinition } from './tools/index.js';
import type { SafetyWatchdog } from './watchdog.js';
import { watchBank, type WatchdogStart } from './watchdog-wiring.js';
import { writeFailsafe } from '../drivers/failsafe.js';
import { EstopInputs, EstopLatchFile } from './estop-latch.js';

/** How long an actuation call waits for a (re)starting watchdog process before it fails. */
const WATCHDOG_WAIT_MS = 10000;

export type { CallSource } from './hooks.js';

export interface ToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** Charged by the gate for LLM-originated calls; throws ERR_BUDGET_EXCEEDED when spent. */
export interface BudgetGuard {
  check(): void;
}

export interface CallContext {
  source: CallSource;
  /** Owner of the motions this call starts (one per run). */
  runId: string;
  signal?: AbortSignal;
  /** True for FOLLOWER / CRYSTALLIZED replays of learned behaviour. */
  replay?: boolean;
  budget?: BudgetGuard;
  /** Periodic sensor reads (telemetry, a status line): a read that succeeds is not audited. */
  quiet?: boolean;
}

export interface ToolResult {
  tool: string;
  value: unknown;
  /** Arguments the gate changed (clamped ranges, limited speeds). */
  adjusted: string[];
}

export interface GateEvents extends BankEvents {
  decision: AuditEntry;
  estop: { engaged: boolean; reason: string; source: string };
  /** A reflex rule refused a command, stopped motion or engaged the e-stop. */
  reflex: ReflexEvent;
}

export interface GateOptions {
  profile: BoardProfile;
  drivers: ReadonlyMap<string, Driver>;
  clock: Clock;
  catalog: ReadonlyMap<string, ToolDefinition>;
  audit: AuditSink;
  deadmanMs: number;
  rampTickMs?: number;
  /** The longest one step (ramp, hold) may take (safety.max_step_ms). */
  maxStepMs?: number;
  speedScale?: number;
  confirmTimeoutMs?: number;
  defaultCommandsPerSecond?: number;
  hookRules?: readonly HookRule[];
  system?: SystemToolsOptions;
  /** L4 memory for fact_read / fact_write. */
  facts?: FactStore;
  /** Where the e-stop latch is kept across restarts (state directory); none: in memory only. */
  estopFile?: string;
}

export class SafetyGate {
  readonly events = new Emitter<GateEvents>();
  readonly confirmations: ConfirmationBroker;
  readonly catalog: ReadonlyMap<string, ToolDefinition>;
  readonly profile: BoardProfile;
  private readonly bank: ActuatorBank;
  private readonly clock: Clock;
  private readonly audit: AuditSink;
  private readonly limiter: CommandRateLimiter;
  private readonly hooks: HookRunner;
  private readonly inflight = new Set<Flight>();
  private readonly facts: FactStore | undefined;
  private readonly system: SystemToolsOptions | undefined;
  private readonly baseSpeedScale: number;
  private dynamicSpeedScale = 1;
  /** The one e-stop state, shared with the motion controller (latch.ts). */
  private readonly latch = new SafetyLatch();
  private watchdog: SafetyWatchdog | undefined;
  private readonly reflexes: ReflexEngine;
  private closed = false;

  constructor(options: GateOptions) {
    this.profile = options.profile;
    this.catalog = options.catalog;
    this.clock = options.clock;
    this.audit = options.audit;
    this.system = options.system;
    this.facts = options.facts;
    this.baseSpeedScale = options.speedScale ?? 1;
    this.limiter = new CommandRateLimiter(options.defaultCommandsPerSecond ?? 50);
    // People answer confirmations in real time, whatever clock the motion runs on.
    this.confirmations = new ConfirmationBroker(new RealClock(), options.confirmTimeoutMs ?? 30000);
    this.bank = new ActuatorBank(options.profile, options.drivers, options.clock, {
      deadmanMs: options.deadmanMs,
      rampTickMs: options.rampTickMs ?? 20,
      ...(options.maxStepMs !== undefined ? { maxStepMs: options.maxStepMs } : {}),
      latch: this.latch,
      emit: (event, payload) => this.events.emit(event, payload as never),
    });
    // An output that could not be brought to rest is a fault: latch, so nothing else moves and
    // the e-stop's safe-state pass retries every channel whose state is unknown.
    this.events.on('stopFailed', ({ actuator, error }) => {
      if (this.latch.estopReason === undefined) void this.engageEstop(`stopping ${actuator} failed: ${error.message}`, 'safety', 0).catch(() => undefined);
    });
    this.latchFile = options.estopFile ? new EstopLatchFile(options.estopFile) : undefined;
    const kept = this.latchFile?.load();
    if (kept) this.engagements = kept.engagement;
    if (kept?.engaged) {
      // Engaged when the last process stopped or died: it stays engaged until a release.
      const reason = `${kept.reason ?? 'e-stop'} (engaged${kept.since ? ` at ${kept.since}` : ''} before a restart)`;
      this.latch.engage(reason, new LlmosError('ERR_ESTOP_ENGAGED', `e-stop engaged by ${kept.source ?? 'an earlier run'}: ${reason}`));
    }
    this.reflexes = new ReflexEngine({
      profile: options.profile, bank: this.bank, clock: options.clock, rampTickMs: options.rampTickMs ?? 20,
      read: (sensor) => readSensor({ bank: this.bank, profile: this.profile }, sensor),
      engageEstop: (reason) => this.engageEstop(reason, 'reflex'),
      report: (e) => {
        // A refused call is audited by call() itself; a stop has no call of its own.
        if (e.kind !== 'refused') this.record({ source: 'reflex' as CallSource, runId: e.runs[0] ?? 'reflex' }, 'reflex', { rule: e.rule, sensor: e.sensor, reading: e.reading, actuators: e.actuators }, e.kind === 'estop' ? 'estop' : 'stop', e.message, e.code);
        this.events.emit('reflex', e);
      },
    });
    this.events.on('write', ({ actuator }) => this.reflexes.noteWrite(actuator));
    this.hooks = new HookRunner(options.hookRules ?? [], this.confirmations);
  }

  addHook(event: 'pre_tool_use', hook: PreToolUseHook): () => void;
  addHook(event: 'post_tool_use', hook: PostToolUseHook): () => void;
  addHook(event: 'pre_tool_use' | 'post_tool_use', hook: PreToolUseHook | PostToolUseHook): () => void {
    return event === 'pre_tool_use' ? this.hooks.add(event, hook as PreToolUseHook) : this.hooks.add(event, hook as PostToolUseHook);
  }

  /** The sentience layer lowers this (CAUTIOUS); it multiplies the configured scale. */
  setSpeedScale(scale: number): void {
    if (!(scale > 0 && scale <= 1)) throw new LlmosError('ERR_CONFIG_INVALID', `speed scale must be in (0, 1], got ${scale}`);
    this.dynamicSpeedScale = scale;
  }

  get speedScale(): number {
    return this.baseSpeedScale * this.dynamicSpeedScale;
  }

  get estopEngaged(): boolean {
    return this.latch.estopReason !== undefined;
  }

  /**
   * `engagement` counts e-stops since start: a remote release names the one it clears, so a
   * release sent before a newer e-stop (and delivered late) cannot clear that newer one.
   */
  get estopStatus(): { engaged: boolean; reason?: string; engagement: number } {
    return this.latch.estopReason === undefined ? { engaged: false, engagement: this.engagements } : { engaged: true, reason: this.latch.estopReason, engagement: this.engagements };
  }

  private engagements = 0;
  private readonly latchFile: EstopLatchFile | undefined;
  private readonly estopInputs = new EstopInputs();

  /** An e-stop input (button) changed; a release is refused while one is active. */
  setEstopInput(name: string, active: boolean): void {
    this.estopInputs.set(name, active);
  }

  /** Persists the latch; a failure is reported (audit, event) but never blocks an engage. */
  private persistLatch(source: string): void {
    if (!this.latchFile) return;
    try {
      this.latchFile.save(this.latch.estopReason === undefined
        ? { engaged: false, engagement: this.engagements }
        : { engaged: true, reason: this.latch.estopReason, source, since: this.clock.wallNow().toISOString(), engagement: this.engagements });
    } catch (e) {
      this.record({ source: 'api', runId: 'estop' }, 'estop', {}, 'reject', toLlmosError(e).message, 'ERR_STATE');
    }
  }

  actuatorSnapshot(): ReturnType<ActuatorBank['snapshot']> {
    return this.bank.snapshot();
  }

  /** Deadman heartbeat: keeps the open-ended motions of a run alive for one more window. */
  refresh(runId: string): void {
    this.bank.refreshOwner(runId);
  }

  async call(call: ToolCall, ctx: CallContext): Promise<ToolResult> {
    // Read once: the name and one plain copy of the arguments are all the rest of the call sees
    // (schema, hooks, audit, handler), whatever getters or proxies the caller passed.
    const name = String(call.name);
    let args: Record<string, unknown> = {};
    const def = this.catalog.get(name);
    const entry = (decision: Decision, reason?: string, code?: string): void => this.record(ctx, name, args, decision, reason, code);
    try {
      args = plainArgs(name, call.args);
      if (this.closed || (this.refusing !== undefined && def?.kind === 'actuation')) throw new LlmosError('ERR_ABORTED', 'the safety gate is closed (shutting down)');
      if (!def) {
        const disabled = toolNamed(name) !== undefined;
        throw disabled
          ? new LlmosError('ERR_TOOL_DISABLED', `${name} is not enabled on this board/config${SYSTEM_TOOLS.includes(name) ? ' (system tools are off: tools.system.enabled)' : ''}`)
          : new LlmosError('ERR_TOOL_UNKNOWN', `unknown tool "${name}"; available: ${[...this.catalog.keys()].join(', ')}`);
      }
      if (typeof args !== 'object' || Array.isArray(args)) throw new LlmosError('ERR_TOOL_ARGS', `${name}: arguments must be an object`);
      const issues = check(`tool_${name}`, args);
      if (issues.length > 0) throw new LlmosError('ERR_TOOL_ARGS', `${name}: ${describeIssues(issues)}`, { issues });
      // Hooks, audit and handler see the resolved call (the drive base filled in, ...).
      args = resolveImplicit(def, args);
      if (ctx.source === 'llm') ctx.budget?.check();
      if (this.latch.estopReason !== undefined && def.kind === 'actuation') {
        throw new LlmosError('ERR_ESTOP_ENGAGED', `e-stop engaged (${this.latch.estopReason}); release it explicitly before ${name}`);
      }
      const watchdog = this.latch.refusal;
      if (watchdog && def.kind === 'actuation') throw watchdog;
      // Nothing moves before the watchdog process holds the outputs and watches.
      if (def.kind === 'actuation' && this.watchdog && !this.watchdog.watching) await this.watchdog.whenWatching(WATCHDOG_WAIT_MS);

      const hookInput: HookInput = { tool: name, args, source: ctx.source, run: ctx.runId, replay: ctx.replay ?? false, definition: def };
      if (this.hooks.hasPre) await this.hooks.runPre(hookInput, ctx.signal, entry);
      if (ctx.signal?.aborted) throw toLlmosError(ctx.signal.reason, 'ERR_ABORTED');

      // The abort signal is made only if the handler asks for it (ramps, holds, waits): most
      // calls finish without one, and the bank's latch stops their writes on an e-stop anyway.
      // Reflexes: refused here (ERR_SAFETY_REFLEX) before anything moves; tracked while it runs.
      const admitted = def.kind === 'actuation' ? this.reflexes.admit(name, args, ctx.runId, this.speedScale) : undefined;
      const intent = admitted instanceof Promise ? await admitted : admitted;
      const flight = new Flight(ctx.signal);
      this.inflight.add(flight);
      const untrack = this.reflexes.track(intent, ctx.runId, (e) => flight.abort(e));
      const adjusted: string[] = [];
      let value: unknown;
      try {
        const env: HandlerEnv = {
          profile: this.profile, bank: this.bank, clock: this.clock, catalog: this.catalog, limiter: this.limiter,
          speedScale: this.speedScale, owner: ctx.runId, get signal() { return flight.signal; }, system: this.system, facts: this.facts,
          adjust: (note) => adjusted.push(note),
          refresh: () => this.bank.refreshOwner(ctx.runId),
        };
        value = await (handlerOf(name) as NonNullable<ReturnType<typeof handlerOf>>)(args, env);
      } catch (e) {
        // Why this call was aborted (a reflex, an e-stop) is why it failed, even when the handler
        // first noticed only that a stop had superseded it (between a drive base's two wheels).
        throw e instanceof LlmosError && e.code === 'ERR_ABORTED' && flight.reason instanceof LlmosError ? flight.reason : e;
      } finally {
        untrack();
        flight.done();
        this.inflight.delete(flight);
      }
      if (this.hooks.hasPost) await this.hooks.runPost({ ...hookInput, result: value });
      entry(adjusted.length > 0 ? 'clamp' : 'allow', adjusted.length > 0 ? adjusted.join('; ') : undefined);
      return { tool: name, value, adjusted };
    } catch (e) {
      const err = toLlmosError(e, 'ERR_DRIVER');
      entry('reject', err.message, err.code);
      throw err;
    }
  }

  /** A run ended: whatever it left moving stops now instead of at its deadman. */
  async endRun(runId: string): Promise<void> {
    await this.bank.stopOwned(runId);
  }

  /** Latched e-stop: aborts every call in flight and brings every actuator to its safe value. */
  async engageEstop(reason: string, source: string, category?: 0 | 1): Promise<void> {
    // Every engage is a new engagement: a release naming an earlier one must not clear it.
    this.engagements++;
    const err = new LlmosError('ERR_ESTOP_ENGAGED', `e-stop engaged by ${source}: ${reason}`);
    this.latch.engage(reason, err);
    // On disk before anyone hears of it: an engage reported is an engage that survives a crash.
    this.persistLatch(source);
    for (const c of this.inflight) c.abort(err);
    this.confirmations.denyAll();
    // Every engage is recorded and announced (with its new engagement number in the state).
    this.record({ source: source as CallSource, runId: 'estop' }, 'estop', {}, 'estop', reason);
    this.events.emit('estop', { engaged: true, reason, source });
    await this.bank.safeAll(`estop: ${reason}`, category);
  }

  /**
   * Clears the e-stop; motion stays stopped until a new command. Returns false if it was not
   * engaged; throws ERR_ESTOP_INPUT_ACTIVE (and stays engaged) while an e-stop input is active.
   */
  releaseEstop(source: string): boolean {
    if (this.latch.estopReason === undefined) return false;
    this.estopInputs.assertReleasable();
    this.latch.release();
    this.persistLatch(source);
    this.watchdog?.rearm();
    this.record({ source: source as CallSource, runId: 'estop' }, 'estop', {}, 'release', 'released');
    this.events.emit('estop', { engaged: false, reason: 'released', source });
    return true;
  }

  /** Watchdog trip: like an e-stop, latched until released. */
  async tripWatchdog(reason: string): Promise<void> {
    // Cut at once (category 0): the watchdog process already wrote safe values, so a controlled
    // ramp from this process's stale idea of the outputs would set them moving again.
    await this.engageEstop(`watchdog: ${reason}`, 'watchdog', 0);
  }

  /**
   * Starts the independent safety watchdog process (real time only): it stops everything it can
   * reach when this process stalls or dies. Resolves with its pid.
   */
  async startWatchdog(options: WatchdogStart): Promise<number> {
    if (this.watchdog) throw new LlmosError('ERR_INTERNAL', 'the safety watchdog is already running');
    this.watchdog = watchBank(this.bank, options, {
      trip: (reason) => { void this.tripWatchdog(reason).catch(() => undefined); },
      // This process still runs and knows its outputs: a normal (ramped) e-stop.
      lost: (reason) => { void this.engageEstop(reason, 'watchdog').catch(() => undefined); },
    });
    return this.watchdog.start();
  }

  /** The pid of the watchdog process watching now (undefined: none, or no watchdog wanted). */
  get watchdogPid(): number | undefined {
    return this.watchdog?.pid;
  }

  /**
   * Last resort on a way out that cannot wait (a second fault or signal during a stop, a
   * shutdown past its bound): latch, then write every safe value the failsafe targets reach,
   * synchronously, before the process may exit. Never throws.
   */
  failsafeSync(reason: string): number {
    this.latch.halt(new LlmosError('ERR_ABORTED', `stopping: ${reason}`));
    let wrote = 0;
    for (const { target, safe } of this.bank.failsafePlan()) wrote += writeFailsafe(target, safe, reason).length;
    return wrote;
  }

  /** Shutdown has begun: no new actuation call is accepted, and nothing but stops writes. */
  refuseNewCalls(reason: string): void {
    this.refusing = reason;
    this.latch.halt(new LlmosError('ERR_ABORTED', `shutting down (${reason}); nothing new moves`), true);
  }

  private refusing: string | undefined;

  /** Brings every actuator to its safe value (exit, signal, crash, broker loss). */
  async safeState(reason: string, category?: 0 | 1): Promise<LlmosError[]> {
    for (const c of this.inflight) c.abort(new LlmosError('ERR_ABORTED', `stopping: ${reason}`));
    this.record({ source: 'api', runId: 'system' }, 'safe_state', {}, 'stop', reason);
    return this.bank.safeAll(reason, category);
  }

  async close(reason = 'shutdown'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reflexes.close();
    this.confirmations.denyAll();
    await this.safeState(reason).catch(() => undefined);
    await this.watchdog?.close();
    await this.bank.closeDrivers();
    await this.audit.flush();
  }

  private record(ctx: Pick<CallContext, 'source' | 'runId' | 'quiet'>, tool: string, args: unknown, decision: Decision, reason?: string, code?: string): void {
    const e: AuditEntry = { ts: this.clock.wallNow().toISOString(), source: ctx.source, run: ctx.runId, tool, args, decision };
    if (reason !== undefined) e.reason = reason;
    if (code !== undefined) e.code = code;
    if (!(ctx.quiet === true && decision === 'allow')) this.audit.record(e);
    if (this.events.hasListeners('decision')) this.events.emit('decision', e);
  }
}
