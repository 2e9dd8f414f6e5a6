/**
 * Hardware PWM through /sys/class/pwm (servos need a steady 50 Hz that software PWM on a busy
 * Linux box cannot give). On a Raspberry Pi with `dtoverlay=pwm-2chan`, BCM 12/18 are channel 0
 * and 13/19 channel 1 of pwmchip0; on a Pi 5 (RP1) they are channels 0-3 of the RP1 chip. A
 * profile can name the chip and channel itself (channel `pwm: {chip, channel}`).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LlmosError } from '../../lib/errors.js';
import type { SysfsKernel } from './lines.js';

export interface PwmAddress {
  chip: number;
  channel: number;
}

/** Default mapping of BCM pins to hardware PWM channels (Pi 1-4 with dtoverlay=pwm-2chan). */
const PI_PWM: Record<number, number> = { 12: 0, 18: 0, 13: 1, 19: 1 };
/** Pi 5: RP1's four PWM channels. */
const PI5_PWM: Record<number, number> = { 12: 0, 13: 1, 18: 2, 19: 3 };

export function defaultPwmAddress(pin: number, mainChipLabel: string, chip = 0): PwmAddress | undefined {
  const table = mainChipLabel === 'pinctrl-rp1' ? PI5_PWM : PI_PWM;
  const channel = table[pin];
  return channel === undefined ? undefined : { chip, channel };
}

export class PwmChannel {
  readonly path: string;
  private exported = false;
  private enabled = false;
  private periodNs = 0;

  private readonly root: string;
  readonly address: PwmAddress;
  private readonly kernel: SysfsKernel | undefined;

  constructor(root: string, address: PwmAddress, kernel?: SysfsKernel) {
    this.root = root;
    this.address = address;
    this.kernel = kernel;
    this.path = join(root, `pwmchip${address.chip}`, `pwm${address.channel}`);
  }

  open(frequencyHz: number): void {
    const chipDir = join(this.root, `pwmchip${this.address.chip}`);
    if (!existsSync(chipDir)) throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `no PWM chip ${chipDir} (enable it, e.g. dtoverlay=pwm-2chan in /boot/firmware/config.txt)`);
    if (!existsSync(this.path)) {
      writeFileSync(join(chipDir, 'export'), String(this.address.channel));
      this.kernel?.exported('pwm', chipDir, this.address.channel);
      this.exported = true;
    }
    this.periodNs = Math.round(1e9 / frequencyHz);
    // The duty cycle must never exceed the period, so zero it before changing the period.
    writeFileSync(join(this.path, 'duty_cycle'), '0');
    writeFileSync(join(this.path, 'period'), String(this.periodNs));
  }

  /** Duty as a fraction of the period, 0..1. */
  setDuty(fraction: number): void {
    this.setPulseNs(Math.round(Math.min(1, Math.max(0, fraction)) * this.periodNs));
  }

  setPulseNs(ns: number): void {
    writeFileSync(join(this.path, 'duty_cycle'), String(Math.min(this.periodNs, Math.max(0, Math.round(ns)))));
    if (!this.enabled) {
      writeFileSync(join(this.path, 'enable'), '1');
      this.enabled = true;
    }
  }

  release(): void {
    try {
      writeFileSync(join(this.path, 'enable'), '0');
    } catch { /* gone already */ }
    this.enabled = false;
    if (this.exported) {
      const chipDir = join(this.root, `pwmchip${this.address.chip}`);
      try {
        writeFileSync(join(chipDir, 'unexport'), String(this.address.channel));
        this.kernel?.unexported('pwm', chipDir, this.address.channel);
      } catch { /* gone already */ }
      this.exported = false;
    }
  }
}
