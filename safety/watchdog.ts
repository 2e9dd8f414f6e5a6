/**
 * The runtime side of the safety watchdog (see watchdog-process.ts). A timer sends a heartbeat;
 * the same timer, and every actuator write, also checks that the event loop has not been away
 * longer than the stall window: a runtime that wakes from a stall latches itself (it must not
 * resume a motion the watchdog has already stopped). A driver write stuck longer than the window
 * withholds the heartbeat, so the watchdog steps in for a blocked driver call too.
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
  /** Extra work per heartbeat (systemd WATCHDOG=1). */
  onBeat?: () => void;
  log?: (msg: string) => void;
}

export class SafetyWatchdog {
  private readonly options: WatchdogOptions;
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = performance.now();
  private tripped = false;
  private closed = false;
  private ready: Promise<number> | undefined;

  constructor(options: WatchdogOptions) {
    this.options = options;
  }

  /** Starts the watchdog process; resolves with its pid once it watches. */
  start(): Promise<number> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  private async spawn(): Promise<number> {
    // node:child_process is loaded only when a watchdog is wanted (real hardware, real time).
    const { fork } = await import('node:child_process');
    const child = fork(packagePath('dist', 'safety', 'watchdog-process.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    this.child = child;
    const ready = new Promise<number>((resolve, reject) => {
      const onMessage = (raw: unknown): void => {
        const msg = raw as FromWatchdog;
        if (msg.type === 'ready') {
          // Watching: from now on neither the process nor its channel may keep the runtime alive.
          child.unref();
          (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
          resolve(msg.pid);
        }
        if (msg.type === 'tripped') this.trip(`watchdog process: ${msg.reason} (${msg.wrote} safe writes)`);
      };
      child.on('message', onMessage);
      child.once('error', (e) => reject(new LlmosError('ERR_SAFETY_WATCHDOG', `cannot start the safety watchdog: ${e.message}`)));
      child.once('exit', (code) => {
        if (!this.closed) this.options.log?.(`safety watchdog process exited (${code}); stalls are no longer covered`);
      });
    });
    this.send({ type: 'init', stallMs: this.options.stallMs, checkMs: Math.max(5, Math.floor(this.options.stallMs / 5)), targets: this.options.targets });
    this.lastBeat = performance.now();
    this.timer = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.timer.unref();
    return ready;
  }

  /** Throws (and trips) when the event loop was away longer than the stall window. */
  assertAlive(): void {
    if (this.tripped) throw new LlmosError('ERR_SAFETY_WATCHDOG', 'the safety watchdog tripped; release the e-stop to move again');
    const away = performance.now() - this.lastBeat;
    if (away > this.options.stallMs) {
      this.trip(`event loop stalled for ${Math.round(away)} ms`);
      throw new LlmosError('ERR_SAFETY_WATCHDOG', `the event loop stalled for ${Math.round(away)} ms; actuators were brought to safe values`);
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
    if (!this.tripped && away > this.options.stallMs && this.options.isMotionActive()) {
      this.trip(`event loop stalled for ${Math.round(away)} ms`);
    }
    this.lastBeat = now;
    // A driver call blocked past the window: stay silent, so the watchdog process acts.
    if (this.options.stuckWriteMs() > this.options.stallMs) return;
    this.send({ type: 'beat', active: this.options.isMotionActive() });
    this.options.onBeat?.();
  }

  private trip(reason: string): void {
    if (this.tripped) return;
    this.tripped = true;
    this.options.onTrip(reason);
  }

  private send(msg: ToWatchdog): void {
    try { this.child?.send(msg); } catch { /* process gone: reported by its exit handler */ }
  }

  /** Orderly stop: the watchdog exits without writing anything. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
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
