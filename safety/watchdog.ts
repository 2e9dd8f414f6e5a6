/**
 * The runtime side of the safety watchdog (see watchdog-process.ts). A timer sends a heartbeat;
 * the same timer, and every actuator write, also checks that the event loop has not been away
 * longer than the stall window while something moved: a runtime that wakes from such a stall
 * latches itself (it must not resume a motion the watchdog has already stopped). Time away with
 * everything at rest (a slow boot on a loaded machine) is not a stall. A driver write stuck
 * longer than the window withholds the heartbeat, so the watchdog steps in for a blocked driver
 * call too.
 *
 * The process runs in its own session (a terminal's Ctrl-C or hang-up never reaches it). If it
 * disappears anyway (killed on its own), the runtime is told (`onLost`: stop and latch), refuses
 * motion until a new one watches, and starts a new one.
 */
import type { ChildProcess } from 'node:child_process';
import { LlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import type { SafeWrite } from '../drivers/failsafe.js';
import type { FailsafeTarget } from '../drivers/types.js';
import type { FromWatchdog, ToWatchdog } from './watchdog-process.js';

export interface WatchdogOptions {
  /** Silence longer than this while moving is a stall (the deadman window). */
  stallMs: number;
  heartbeatMs: number;
  targets: Array<{ target: FailsafeTarget; safe: SafeWrite[] }>;
  /** True while any motion actuator is away from its safe value. */
  isMotionActive: () => boolean;
  /** Milliseconds the oldest in-flight driver write has been pending (0 when none). */
  stuckWriteMs: () => number;
  /** Called once per trip, from the watchdog's report or the runtime's own stall check. */
  onTrip: (reason: string) => void;
  /** The watchdog process went away while the runtime still runs (motion must stop). */
  onLost?: (reason: string) => void;
  /** Extra work per heartbeat (systemd WATCHDOG=1). */
  onBeat?: () => void;
  log?: (msg: string) => void;
}

export class SafetyWatchdog {
  private readonly options: WatchdogOptions;
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = performance.now();
  /** Something moved (or a write was in flight) at the last beat: silence since then is a stall. */
  private lastActive = false;
  private tripped = false;
  private closed = false;
  private ready: Promise<number> | undefined;
  private watchingPid: number | undefined;
  private waiters: Array<{ done: () => void; fail: (e: LlmosError) => void }> = [];
  private respawnDelay = 100;
  private respawnTimer: NodeJS.Timeout | undefined;

  constructor(options: WatchdogOptions) {
    this.options = options;
  }

  /** Starts the watchdog process; resolves with its pid once it watches. */
  start(): Promise<number> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  /** The pid of the watchdog process that holds the outputs and watches now (undefined: none). */
  get pid(): number | undefined {
    return this.watchingPid;
  }

  get watching(): boolean {
    return this.watchingPid !== undefined;
  }

  /** Resolves once a watchdog process watches; ERR_SAFETY_WATCHDOG after `ms`. */
  whenWatching(ms: number): Promise<void> {
    if (this.watching) return Promise.resolve();
    if (this.closed) return Promise.reject(new LlmosError('ERR_SAFETY_WATCHDOG', 'the safety watchdog is closed (shutting down); nothing moves'));
    return new Promise((resolve, reject) => {
      const waiter = {
        done: (): void => { clearTimeout(timer); resolve(); },
        fail: (e: LlmosError): void => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new LlmosError('ERR_SAFETY_WATCHDOG', `no safety watchdog process watched the outputs within ${ms} ms; nothing was moved (see the log for why it cannot start)`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  private async spawn(): Promise<number> {
    // node:child_process is loaded only when a watchdog is wanted (real hardware, real time).
    const { fork } = await import('node:child_process');
    // detached: its own session and process group, so a terminal's SIGINT/SIGHUP (sent to the
    // foreground process group) and a signal to our group never reach it.
    const child = fork(packagePath('dist', 'safety', 'watchdog-process.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json', detached: true });
    this.child = child;
    const ready = new Promise<number>((resolve, reject) => {
      child.on('message', (raw: unknown) => {
        const msg = raw as FromWatchdog;
        if (msg.type === 'ready') {
          // Watching: from now on neither the process nor its channel may keep the runtime alive.
          child.unref();
          (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
          this.watchingPid = msg.pid;
          this.respawnDelay = 100;
          for (const w of this.waiters.splice(0)) w.done();
          resolve(msg.pid);
        }
        if (msg.type === 'tripped') this.trip(`watchdog process: ${msg.reason} (${msg.wrote} safe writes)`);
      });
      // Kept for the child's whole life: a send on a closed channel reports here, never as a crash.
      child.on('error', (e) => {
        if (this.watchingPid === undefined) reject(new LlmosError('ERR_SAFETY_WATCHDOG', `cannot start the safety watchdog: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        const was = this.watchingPid;
        if (this.child === child) { this.child = undefined; this.watchingPid = undefined; }
        if (this.closed) return;
        const why = `safety watchdog process exited (${signal ?? code}); motion is refused until a new one watches`;
        this.options.log?.(why);
        if (was === undefined) reject(new LlmosError('ERR_SAFETY_WATCHDOG', why));
        this.options.onLost?.(why);
        this.scheduleRespawn();
      });
    });
    this.send({ type: 'init', stallMs: this.options.stallMs, checkMs: Math.max(5, Math.floor(this.options.stallMs / 5)), targets: this.options.targets });
    this.lastBeat = performance.now();
    if (!this.timer) {
      this.timer = setInterval(() => this.beat(), this.options.heartbeatMs);
      this.timer.unref();
    }
    return ready;
  }

  /** A new watchdog after the last one went away; backs off if it keeps dying. */
  private scheduleRespawn(): void {
    if (this.closed || this.respawnTimer) return;
    const delay = this.respawnDelay;
    this.respawnDelay = Math.min(5000, this.respawnDelay * 2);
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      if (this.closed) return;
      this.spawn().then((pid) => this.options.log?.(`safety watchdog process ${pid} watches again`), (e: unknown) => {
        this.options.log?.(`safety watchdog: ${(e as Error).message}`);
        this.scheduleRespawn();
      });
    }, delay);
    this.respawnTimer.unref();
  }

  /**
   * Before every actuator write: throws (and trips) when the event loop was away longer than the
   * stall window while something moved, and refuses while no watchdog process watches. A
   * `motion` write (drive base, motor) may start a motion: silence counts from then on.
   */
  assertAlive(motion = true): void {
    if (this.tripped) throw new LlmosError('ERR_SAFETY_WATCHDOG', 'the safety watchdog tripped; release the e-stop to move again');
    if (!this.watching) throw new LlmosError('ERR_SAFETY_WATCHDOG', 'no safety watchdog process watches the outputs now; nothing moves until one does');
    const now = performance.now();
    const away = now - this.lastBeat;
    if (away > this.options.stallMs && this.lastActive) {
      this.trip(`event loop stalled for ${Math.round(away)} ms`);
      throw new LlmosError('ERR_SAFETY_WATCHDOG', `the event loop stalled for ${Math.round(away)} ms; actuators were brought to safe values`);
    }
    if (motion && !this.lastActive) {
      // This write may start a motion: from now on silence counts, here and in the watchdog process.
      this.lastActive = true;
      this.lastBeat = now;
      this.send({ type: 'beat', active: true });
    }
  }

  /** After an explicit e-stop release: watch again. */
  rearm(): void {
    this.tripped = false;
    this.lastBeat = performance.now();
    this.send({ type: 'rearm' });
  }

  get hasTripped(): boolean {
    return this.tripped;
  }

  private beat(): void {
    const now = performance.now();
    const away = now - this.lastBeat;
    if (!this.tripped && away > this.options.stallMs && (this.lastActive || this.options.isMotionActive())) {
      this.trip(`event loop stalled for ${Math.round(away)} ms`);
    }
    this.lastBeat = now;
    const stuck = this.options.stuckWriteMs();
    this.lastActive = this.options.isMotionActive() || stuck > 0;
    // A driver call blocked past the window: stay silent, so the watchdog process acts.
    if (stuck > this.options.stallMs) return;
    this.send({ type: 'beat', active: this.lastActive });
    this.options.onBeat?.();
  }

  private trip(reason: string): void {
    if (this.tripped) return;
    this.tripped = true;
    this.options.onTrip(reason);
  }

  private send(msg: ToWatchdog): void {
    const child = this.child;
    if (!child?.connected) return;
    // The callback takes any error (channel closed meanwhile): reported by the exit handler.
    try { child.send(msg, () => undefined); } catch { /* process gone: reported by its exit handler */ }
  }

  /** Orderly stop: the watchdog exits without writing anything. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.respawnTimer);
    for (const w of this.waiters.splice(0)) w.fail(new LlmosError('ERR_SAFETY_WATCHDOG', 'the safety watchdog is closed (shutting down); nothing moves'));
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // Wait (kept alive) for the watchdog to acknowledge by exiting; kill it if it does not.
    child.ref();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, 1000); });
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
