/**
 * The seam between the GPIO driver and the kernel: one line, exported, with a direction. Two
 * implementations: onoff (the real library, /sys/class/gpio with epoll edge interrupts) and
 * plain sysfs files under any root, which is what the tests and the simulated twin use against a
 * fake sysfs tree (onoff's root is fixed at /sys/class/gpio).
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LlmosError } from '../../lib/errors.js';

export type Level = 0 | 1;

export interface LineOptions {
  direction: 'in' | 'out';
  /** Logical level as the line becomes an output, so it never glitches to the wrong one. */
  initial?: Level;
  activeLow?: boolean;
  /** Inputs: report both edges to watchers (every change; filtering is the caller's). */
  edge?: boolean;
}

/**
 * The kernel's `direction` "high"/"low" sets the raw pin level and ignores active_low, so the
 * level asked for there is the physical one.
 */
export function directionFor(options: LineOptions): 'in' | 'high' | 'low' {
  if (options.direction === 'in') return 'in';
  const logical = options.initial ?? 0;
  return (options.activeLow ? 1 - logical : logical) === 1 ? 'high' : 'low';
}

export interface GpioLine {
  readonly gpio: number;
  write(level: Level): void;
  read(): Level;
  /** Calls back on every (debounced) change of an input; returns an unsubscribe. */
  watch(onChange: (level: Level) => void, onError?: (e: Error) => void): () => void;
  /** Unexports the line. Safe to call twice. */
  release(): void;
}

export interface GpioLineBackend {
  readonly kind: 'onoff' | 'sysfs';
  readonly root: string;
  open(gpio: number, options: LineOptions): GpioLine;
}

/** The part of onoff's Gpio class the driver uses. */
interface OnoffGpio {
  writeSync(value: Level): void;
  readSync(): Level;
  watch(cb: (err: Error | null | undefined, value: Level) => void): void;
  unwatch(cb?: (err: Error | null | undefined, value: Level) => void): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: {
    new (gpio: number, direction: string, edge?: string, options?: { activeLow?: boolean; debounceTimeout?: number; reconfigureDirection?: boolean }): OnoffGpio;
    readonly accessible: boolean;
  };
}

export class OnoffBackend implements GpioLineBackend {
  readonly kind = 'onoff' as const;
  readonly root = '/sys/class/gpio';
  private mod: OnoffModule | undefined;

  open(gpio: number, options: LineOptions): GpioLine {
    // Loaded on first use: a simulated board never pays for onoff and its epoll addon.
    this.mod ??= createRequire(import.meta.url)('onoff') as OnoffModule;
    // activeLow always as a boolean: onoff leaves active_low alone when the option is absent, and a
    // line found exported with active_low=1 (a udev rule, a crashed run) would drive inverted.
    const g = new this.mod.Gpio(gpio, directionFor(options), options.edge ? 'both' : 'none', { activeLow: options.activeLow === true });
    let released = false;
    return {
      gpio,
      write: (level) => g.writeSync(level),
      read: () => g.readSync(),
      watch: (onChange, onError) => {
        const cb = (err: Error | null | undefined, value: Level): void => { if (err) onError?.(err); else onChange(value); };
        g.watch(cb);
        return () => g.unwatch(cb);
      },
      release: () => {
        if (released) return;
        released = true;
        g.unwatch();
        g.unexport();
      },
    };
  }
}

/**
 * What the kernel does when a number is written to `export`/`unexport` (creates or removes the
 * line's directory). The real kernel needs no help; a fake tree passes its emulation here.
 */
export interface SysfsKernel {
  exported(kind: 'gpio' | 'pwm', path: string, n: number): void;
  unexported(kind: 'gpio' | 'pwm', path: string, n: number): void;
}

/** Plain file access to a sysfs-style tree (a fake one in tests, /sys/class/gpio on a board). */
export class SysfsBackend implements GpioLineBackend {
  readonly kind = 'sysfs' as const;
  readonly root: string;
  private readonly kernel: SysfsKernel | undefined;
  private readonly pollMs: number;

  constructor(root: string, kernel?: SysfsKernel, pollMs = 10) {
    this.root = root;
    this.kernel = kernel;
    this.pollMs = pollMs;
  }

  open(gpio: number, options: LineOptions): GpioLine {
    const dir = join(this.root, `gpio${gpio}`);
    let exported = false;
    if (!existsSync(dir)) {
      writeFileSync(join(this.root, 'export'), String(gpio));
      this.kernel?.exported('gpio', this.root, gpio);
      exported = true;
      if (!existsSync(dir)) throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `exporting gpio${gpio} under ${this.root} did not create ${dir}`);
    }
    const file = (f: string): string => join(dir, f);
    writeFileSync(file('active_low'), options.activeLow ? '1' : '0');
    writeFileSync(file('direction'), directionFor(options));
    if (options.direction === 'in') writeFileSync(file('edge'), options.edge ? 'both' : 'none');
    const read = (): Level => (readFileSync(file('value'), 'utf8').trim() === '1' ? 1 : 0);
    const watchers = new Set<() => void>();
    let released = false;
    return {
      gpio,
      write: (level) => writeFileSync(file('value'), String(level)),
      read,
      watch: (onChange) => {
        // A fake tree has no interrupts: poll the value file and report each change.
        let last = read();
        const listener = (): void => {
          const now = read();
          if (now === last) return;
          last = now;
          onChange(now);
        };
        watchFile(file('value'), { interval: this.pollMs, persistent: false }, listener);
        const stop = (): void => { unwatchFile(file('value'), listener); watchers.delete(stop); };
        watchers.add(stop);
        return stop;
      },
      release: () => {
        if (released) return;
        released = true;
        for (const stop of [...watchers]) stop();
        if (exported) {
          try {
            writeFileSync(join(this.root, 'unexport'), String(gpio));
            this.kernel?.unexported('gpio', this.root, gpio);
          } catch { /* already gone */ }
        }
      },
    };
  }
}
