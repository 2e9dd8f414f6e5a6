/**
 * Which sysfs GPIO number a pin has. Since Linux 6.6 (and on every Raspberry Pi 5) the main GPIO
 * chip no longer starts at 0: its base is e.g. 512 or 571, so BCM 17 is sysfs 529 or 588. The
 * base is read from /sys/class/gpio/gpiochip<N>/{base,label,ngpio}, never assumed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LlmosError } from '../../lib/errors.js';

export interface GpioChip {
  /** Directory name, e.g. gpiochip571. */
  dir: string;
  base: number;
  label: string;
  ngpio: number;
}

/**
 * Labels of the chips whose line offsets are the board's GPIO numbers, most specific first:
 * Pi 5 (RP1), Pi 4, Pi 1-3 and Pi 4 on older kernels, Jetson Orin / Xavier / Nano.
 */
export const MAIN_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835', 'tegra234-gpio', 'tegra194-gpio', 'tegra-gpio'] as const;

export function listChips(root: string): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return [];
  }
  const chips: GpioChip[] = [];
  for (const dir of names) {
    try {
      const read = (f: string): string => readFileSync(join(root, dir, f), 'utf8').trim();
      chips.push({ dir, base: Number(read('base')), label: read('label'), ngpio: Number(read('ngpio')) });
    } catch { /* a chip we cannot read is not one we can use */ }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/** Why this machine has no usable sysfs GPIO, or undefined when it has. */
export function gpioUnavailableReason(root: string): string | undefined {
  if (!existsSync(root)) return `${root} does not exist (no GPIO on this machine, or a kernel built without CONFIG_GPIO_SYSFS)`;
  if (!existsSync(join(root, 'export'))) return `${root}/export is missing`;
  return undefined;
}

/** The chip whose offsets are the profile's pin numbers: by label when given, else a known main chip. */
export function mainChip(root: string, label?: string): GpioChip {
  const chips = listChips(root);
  const found = chips.map((c) => `${c.dir} (${c.label}, base ${c.base}, ${c.ngpio} lines)`).join(', ') || 'none';
  if (label !== undefined) {
    const chip = chips.find((c) => c.label === label);
    if (!chip) throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `no GPIO chip labelled "${label}" under ${root}; found: ${found}`);
    return chip;
  }
  for (const known of MAIN_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === known);
    if (chip) return chip;
  }
  if (chips.length === 1) return chips[0] as GpioChip;
  throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `cannot tell which GPIO chip carries the board's pins under ${root}; found: ${found}. Name it with the driver option chip_label`);
}

/** sysfs number of a pin (BCM number on a Raspberry Pi, line offset elsewhere). */
export function sysfsNumber(chip: GpioChip, pin: number, what: string): number {
  if (!Number.isInteger(pin) || pin < 0 || pin >= chip.ngpio) {
    throw new LlmosError('ERR_BOARD_PROFILE', `${what}: pin ${pin} is not a line of ${chip.dir} (${chip.label}, ${chip.ngpio} lines)`);
  }
  return chip.base + pin;
}
