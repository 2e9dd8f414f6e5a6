/**
 * A fake /sys/class/gpio and /sys/class/pwm in a directory, with a tiny emulation of what the
 * kernel does on export/unexport. Layouts reproduce real boards, including the offset bases of
 * kernels >= 6.6 and the Raspberry Pi 5, so the GPIO driver's chip discovery is tested against
 * the trees it will meet.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SysfsKernel } from '../lines.js';

export interface FakeChip { base: number; label: string; ngpio: number }

export const LAYOUTS = {
  /** Raspberry Pi 4, kernel < 6.6: main chip at base 0. */
  'pi4': [{ base: 0, label: 'pinctrl-bcm2711', ngpio: 58 }, { base: 504, label: 'raspberrypi-exp-gpio', ngpio: 8 }],
  /** Raspberry Pi 4, kernel >= 6.6: the same chip, now at base 512. */
  'pi4-6.6': [{ base: 512, label: 'pinctrl-bcm2711', ngpio: 58 }, { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 }],
  /** Raspberry Pi 5: the header pins are on RP1, after four brcmstb chips. */
  'pi5': [
    { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
    { base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
    { base: 548, label: 'gpio-brcmstb@107d517c00', ngpio: 17 },
    { base: 565, label: 'gpio-brcmstb@107d517c20', ngpio: 6 },
    { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
  ],
  /** Jetson Orin: pins are line offsets of tegra234-gpio. */
  'jetson-orin': [{ base: 348, label: 'tegra234-gpio', ngpio: 164 }, { base: 316, label: 'tegra234-gpio-aon', ngpio: 32 }],
} as const satisfies Record<string, readonly FakeChip[]>;

export type FakeLayout = keyof typeof LAYOUTS;

export class FakeSysfs implements SysfsKernel {
  readonly gpioRoot: string;
  readonly pwmRoot: string;
  private readonly owned: boolean;

  constructor(options: { dir?: string; layout?: FakeLayout; chips?: readonly FakeChip[]; pwmChips?: number } = {}) {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'llmos-sysfs-'));
    this.owned = options.dir === undefined;
    this.gpioRoot = join(dir, 'class', 'gpio');
    this.pwmRoot = join(dir, 'class', 'pwm');
    mkdirSync(this.gpioRoot, { recursive: true });
    mkdirSync(this.pwmRoot, { recursive: true });
    writeFileSync(join(this.gpioRoot, 'export'), '');
    writeFileSync(join(this.gpioRoot, 'unexport'), '');
    for (const c of options.chips ?? LAYOUTS[options.layout ?? 'pi4']) {
      const chip = join(this.gpioRoot, `gpiochip${c.base}`);
      mkdirSync(chip, { recursive: true });
      writeFileSync(join(chip, 'base'), `${c.base}\n`);
      writeFileSync(join(chip, 'label'), `${c.label}\n`);
      writeFileSync(join(chip, 'ngpio'), `${c.ngpio}\n`);
    }
    for (let i = 0; i < (options.pwmChips ?? 1); i++) {
      const chip = join(this.pwmRoot, `pwmchip${i}`);
      mkdirSync(chip, { recursive: true });
      writeFileSync(join(chip, 'export'), '');
      writeFileSync(join(chip, 'unexport'), '');
      writeFileSync(join(chip, 'npwm'), '4\n');
    }
  }

  exported(kind: 'gpio' | 'pwm', path: string, n: number): void {
    const dir = join(path, `${kind}${n}`);
    mkdirSync(dir, { recursive: true });
    const files: Record<string, string> = kind === 'gpio'
      ? { direction: 'in', value: '0', edge: 'none', active_low: '0' }
      : { period: '0', duty_cycle: '0', enable: '0', polarity: 'normal' };
    for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), `${v}\n`);
  }

  unexported(kind: 'gpio' | 'pwm', path: string, n: number): void {
    rmSync(join(path, `${kind}${n}`), { recursive: true, force: true });
  }

  /** Exported GPIO line directory, e.g. gpio588, or undefined when not exported. */
  isExported(gpio: number): boolean {
    return existsSync(join(this.gpioRoot, `gpio${gpio}`));
  }

  read(gpio: number, file = 'value'): string {
    return readFileSync(join(this.gpioRoot, `gpio${gpio}`, file), 'utf8').trim();
  }

  /** Drives an input line from outside, as a button or sensor would. */
  setInput(gpio: number, level: 0 | 1): void {
    writeFileSync(join(this.gpioRoot, `gpio${gpio}`, 'value'), `${level}\n`);
  }

  readPwm(chip: number, channel: number, file: 'period' | 'duty_cycle' | 'enable'): string {
    return readFileSync(join(this.pwmRoot, `pwmchip${chip}`, `pwm${channel}`, file), 'utf8').trim();
  }

  remove(): void {
    if (this.owned) rmSync(join(this.gpioRoot, '..', '..'), { recursive: true, force: true });
  }
}
