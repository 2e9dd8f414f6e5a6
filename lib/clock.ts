/**
 * The clock seam. Deadman windows, ramps, waits, homeostasis and expiry all read time through a
 * Clock, so tests drive them with a VirtualClock instead of real sleeps, and the simulator can
 * replay a long trace in milliseconds.
 */
import { LlmosError } from './errors.js';

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic, from an arbitrary origin. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Resolves after `ms`; rejects with ERR_ABORTED when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Wall-clock time for timestamps in files (ISO strings). */
  wallNow(): Date;
}

function abortError(signal: AbortSignal): LlmosError {
  const reason: unknown = signal.reason;
  if (reason instanceof LlmosError) return reason;
  const text = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  return new LlmosError('ERR_ABORTED', `aborted: ${text}`);
}

/** Shared sleep built on a clock's own timers, with the abort listener always removed. */
function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortError(signal as AbortSignal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  wallNow(): Date {
    return new Date();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    this.timers.set(id, t);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearTimeout(t);
    this.timers.delete(handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

interface VirtualTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * Simulated time. In manual mode only `advance()` moves time (tests). In auto mode the clock
 * jumps to the next due timer whenever the event loop has nothing else queued, so a simulated
 * 30-second trace completes in a few milliseconds while keeping every timestamp exact.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly wallOrigin: number;
  private timers: VirtualTimer[] = [];
  private nextId = 1;
  private seq = 0;
  private pumpScheduled = false;
  private readonly auto: boolean;

  constructor(options: { auto?: boolean; start?: number; wallOrigin?: Date } = {}) {
    this.auto = options.auto ?? false;
    this.current = options.start ?? 0;
    this.wallOrigin = (options.wallOrigin ?? new Date('2026-01-01T00:00:00Z')).getTime();
  }

  now(): number {
    return this.current;
  }

  wallNow(): Date {
    return new Date(this.wallOrigin + this.current);
  }

  /** Number of timers waiting (useful in tests). */
  pending(): number {
    return this.timers.length;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { id: this.nextId++, due: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.schedulePump();
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promise chains settle. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      // Work started just before advance() may register its first timer only after a turn.
      await flushMicrotasks();
      const next = this.timers[0];
      if (!next || next.due > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = target;
    await flushMicrotasks();
  }

  private schedulePump(): void {
    if (!this.auto || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const next = this.timers.shift();
      if (!next) return;
      this.current = Math.max(this.current, next.due);
      next.fn();
      if (this.timers.length > 0) this.schedulePump();
    });
  }
}

/** Lets every promise chain woken by a timer run until it waits again (one macrotask turn). */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
