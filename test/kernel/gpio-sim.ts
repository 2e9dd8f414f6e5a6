/**
 * The kernel's gpio-sim, driven from inside the test guest: chips made through configfs, each
 * line's level read from its `sim_gpioN/value` attribute and an input driven with `sim_gpioN/pull`
 * (what a button or a pull resistor would do to the pin).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CONFIGFS = '/sys/kernel/config/gpio-sim';
const SYSFS_GPIO = '/sys/class/gpio';
const read = (f: string): string => readFileSync(f, 'utf8').trim();

export interface SimChip {
  label: string;
  /** sysfs base of the chip (its gpiochip<base> under /sys/class/gpio). */
  base: number;
  ngpio: number;
  /** /sys/devices/platform/gpio-sim.N/gpiochipM: the simulator's per-line attributes. */
  dev: string;
  /** The physical level of a line as the kernel holds it (an output's value, else its pull). */
  level(offset: number): 0 | 1;
  /** Pulls an input line up or down, as a switch would. */
  pull(offset: number, to: 'up' | 'down'): void;
  /** sysfs number of a line offset. */
  gpio(offset: number): number;
  exported(offset: number): boolean;
}

/** Creates a live gpio-sim chip with one bank of `lines` lines labelled `label`. */
export function createSimChip(name: string, label: string, lines: number): SimChip {
  if (!existsSync(CONFIGFS)) throw new Error(`${CONFIGFS} is missing: configfs or the gpio-sim module is not loaded`);
  const dir = join(CONFIGFS, name);
  mkdirSync(join(dir, 'bank0'), { recursive: true });
  writeFileSync(join(dir, 'bank0', 'num_lines'), String(lines));
  writeFileSync(join(dir, 'bank0', 'label'), label);
  writeFileSync(join(dir, 'live'), '1');
  const dev = join('/sys/devices/platform', read(join(dir, 'dev_name')), read(join(dir, 'bank0', 'chip_name')));
  const entry = readdirSync(SYSFS_GPIO).find((d) => d.startsWith('gpiochip') && read(join(SYSFS_GPIO, d, 'label')) === label);
  if (!entry) throw new Error(`no ${SYSFS_GPIO}/gpiochip* labelled ${label}`);
  const base = Number(read(join(SYSFS_GPIO, entry, 'base')));
  return {
    label, base, dev, ngpio: Number(read(join(SYSFS_GPIO, entry, 'ngpio'))),
    level: (offset) => (read(join(dev, `sim_gpio${offset}`, 'value')) === '1' ? 1 : 0),
    pull: (offset, to) => writeFileSync(join(dev, `sim_gpio${offset}`, 'pull'), `pull-${to}`),
    gpio: (offset) => base + offset,
    exported: (offset) => existsSync(join(SYSFS_GPIO, `gpio${base + offset}`)),
  };
}

/** Lines exported through /sys/class/gpio right now (gpioN directories). */
export function exportedLines(): string[] {
  return readdirSync(SYSFS_GPIO).filter((d) => /^gpio\d+$/.test(d));
}

/** Polls `check` until it holds; throws naming `what` after `ms`. Bounds are generous: TCG is slow. */
export async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const TRACING = '/sys/kernel/tracing';

/**
 * The kernel's own record of GPIO writes (the gpio_value tracepoint): every level a driver set,
 * raw (physical) and in order, so a test sees a short pulse without racing to poll for it. Needs
 * tracefs mounted at /sys/kernel/tracing (the guest's script does it).
 */
export class GpioTrace {
  constructor() {
    if (!existsSync(join(TRACING, 'events', 'gpio', 'gpio_value'))) throw new Error(`${TRACING}/events/gpio is missing: mount tracefs there`);
    writeFileSync(join(TRACING, 'events', 'gpio', 'gpio_value', 'enable'), '1');
    this.clear();
  }

  clear(): void {
    writeFileSync(join(TRACING, 'trace'), '');
  }

  /** Levels set on `gpio` since the last clear, in order. */
  sets(gpio: number): Array<0 | 1> {
    const out: Array<0 | 1> = [];
    for (const line of readFileSync(join(TRACING, 'trace'), 'utf8').split('\n')) {
      const m = /gpio_value: (\d+) set (\d)/.exec(line);
      if (m && Number(m[1]) === gpio) out.push(m[2] === '1' ? 1 : 0);
    }
    return out;
  }
}
