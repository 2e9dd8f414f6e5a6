/**
 * GPIO on a Linux single-board computer: digital outputs, hardware PWM (servos, motor speed,
 * buzzers), H-bridge motors and a differential drive from two of them, and digital inputs with
 * edge interrupts (the e-stop button, bumpers). Pins in the profile are BCM numbers on a
 * Raspberry Pi (line offsets of the main chip elsewhere); the sysfs number is found from the
 * chip's base (see gpio/chips.ts). Lines go through onoff on a real board, or through plain
 * sysfs files under `sysfs_root` (a fake tree: tests and the simulated twin).
 *
 * Driver options (board profile `drivers.<name>`):
 *   sysfs_root: /sys/class/gpio   pwm_root: /sys/class/pwm   chip_label: pinctrl-rp1
 *   pwm_chip: 0   servo_hz: 50   pwm_hz: 1000   backend: onoff | sysfs
 */
import { constants, accessSync } from 'node:fs';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import { gpioUnavailableReason, mainChip, sysfsNumber, type GpioChip } from './chips.js';
import { OnoffBackend, SysfsBackend, type GpioLine, type GpioLineBackend, type Level, type SysfsKernel } from './lines.js';
import { PwmChannel, defaultPwmAddress, type PwmAddress } from './pwm.js';
import { pressFilter } from '../debounce.js';
import { driverOptions, type DriverOptions } from '../options.js';
import type { WriteRecorder } from '../recorder.js';
import type {
  ActuatorSpec, ActuatorValue, ChannelSpec, Driver, DriverCapabilities, DriverInstanceSpec, FailsafeTarget, ProbeResult, SensorReading, SensorSpec, WriteTarget,
} from '../types.js';

export interface GpioDriverOptions {
  name: string;
  options: DriverInstanceSpec['options'];
  clock: Clock;
  /** Records every physical write (simulated twin). */
  recorder?: WriteRecorder;
  /** Emulates the kernel's export/unexport under a fake tree. */
  kernel?: SysfsKernel;
  /** Replaces the line backend (tests). */
  backend?: GpioLineBackend;
}

/** One H-bridge motor: speed on a PWM pin, direction on one or two digital pins. */
interface MotorChannel {
  pwm: PwmChannel;
  dir?: GpioLine;
  cdir?: GpioLine;
  invert: boolean;
}

type Output =
  | { kind: 'digital'; line: GpioLine; pin: number }
  | { kind: 'pwm'; pwm: PwmChannel; pin: number }
  | { kind: 'servo'; pwm: PwmChannel; pin: number; range: [number, number] }
  | { kind: 'motor'; motor: MotorChannel; pin: number };


export class GpioDriver implements Driver {
  private readonly opt: DriverOptions;
  readonly name: string;
  readonly type = 'gpio' as const;
  readonly capabilities: DriverCapabilities;
  private readonly root: string;
  private readonly pwmRoot: string;
  private readonly backend: GpioLineBackend;
  private readonly outputs = new Map<string, Output>();
  private readonly inputs = new Map<string, { line: GpioLine; pin: number }>();
  private readonly watched: GpioLine[] = [];
  private readonly failsafeLines: Array<{ actuator: string; channel?: 'left' | 'right'; gpio: number; safeLevel: 0 | 1 }> = [];
  private readonly failsafePwms: string[] = [];
  private readonly pwmOwners = new Map<string, string>();
  private chip: GpioChip | undefined;
  private closed = false;

  private readonly o: GpioDriverOptions;

  constructor(o: GpioDriverOptions) {
    this.o = o;
    this.opt = driverOptions(o.options);
    this.name = o.name;
    this.root = this.opt.string('sysfs_root') ?? '/sys/class/gpio';
    this.pwmRoot = this.opt.string('pwm_root') ?? '/sys/class/pwm';
    const wanted = this.opt.string('backend') ?? (this.root === '/sys/class/gpio' ? 'onoff' : 'sysfs');
    this.backend = o.backend ?? (wanted === 'onoff' ? new OnoffBackend() : new SysfsBackend(this.root, o.kernel));
    this.capabilities = {
      actuatorTypes: ['differential_drive', 'servo', 'motor', 'digital_out', 'pwm'],
      sensorTypes: ['digital'],
      simulated: o.recorder !== undefined,
    };
  }

  /** The main chip, found once; throws naming the pin when this machine has no GPIO. */
  private chipFor(what: string): GpioChip {
    if (this.chip) return this.chip;
    const why = gpioUnavailableReason(this.root);
    if (why) throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `${what}: no GPIO: ${why}`);
    this.chip = mainChip(this.root, this.opt.string('chip_label'));
    return this.chip;
  }

  private pinOf(ch: ChannelSpec | undefined, key: 'pin' | 'dir_pin' | 'cdir_pin', what: string): number | undefined {
    const v = ch?.[key];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : Number(String(v).replace(/^(GPIO|BCM)/i, ''));
    if (!Number.isInteger(n)) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: ${key} "${String(v)}" is not a BCM pin number`);
    return n;
  }

  private line(pin: number, what: string, options: Parameters<GpioLineBackend['open']>[1]): GpioLine {
    const gpio = sysfsNumber(this.chipFor(`${what} (pin ${pin})`), pin, what);
    try {
      return this.backend.open(gpio, options);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const hint = err.code === 'EACCES' ? ' (add the user to the gpio group)' : err.code === 'EBUSY' ? ' (another program holds the pin)' : '';
      throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `${what}: cannot open pin ${pin} (sysfs gpio${gpio}): ${err.message}${hint}`, undefined, { cause: e });
    }
  }

  /** The hardware PWM channel behind a pin: named in the profile, else the board's default. */
  private pwmAddress(ch: ChannelSpec, pin: number, chip: GpioChip, what: string): PwmAddress {
    const explicit = ch['pwm'] as Partial<PwmAddress> | undefined;
    const chipNo = this.opt.number('pwm_chip') ?? 0;
    const address = explicit && typeof explicit.channel === 'number'
      ? { chip: explicit.chip ?? chipNo, channel: explicit.channel }
      : defaultPwmAddress(pin, chip.label, chipNo);
    if (!address) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: pin ${pin} has no hardware PWM (use BCM 12, 13, 18 or 19, or name the channel with pwm: {chip, channel})`);
    return address;
  }

  private pwm(ch: ChannelSpec, pin: number, hz: number, what: string): PwmChannel {
    const address = this.pwmAddress(ch, pin, this.chipFor(`${what} (pin ${pin})`), what);
    const key = `${address.chip}/${address.channel}`;
    const holder = this.pwmOwners.get(key);
    if (holder) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: pin ${pin} uses PWM channel ${address.channel} of pwmchip${address.chip}, which ${holder} already uses (two pins on one channel would move together)`);
    this.pwmOwners.set(key, `${what} (pin ${pin})`);
    const p = new PwmChannel(this.pwmRoot, address, this.o.kernel);
    try {
      p.open(hz);
    } catch (e) {
      throw e instanceof LlmosError ? new LlmosError(e.code, `${what} (pin ${pin}): ${e.message}`) : new LlmosError('ERR_DRIVER_UNAVAILABLE', `${what} (pin ${pin}): cannot open ${p.path}: ${(e as Error).message}`, undefined, { cause: e });
    }
    this.failsafePwms.push(p.path);
    return p;
  }

  private motor(ch: ChannelSpec | undefined, what: string, twoWay: boolean): { motor: MotorChannel; pin: number } {
    const pin = this.pinOf(ch, 'pin', what);
    if (!ch || pin === undefined) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: a motor needs pin (PWM speed) and dir_pin`);
    // Without a direction pin a negative command would spin the motor forward.
    if (twoWay && ch.dir_pin === undefined) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: its range allows negative speeds, so it needs dir_pin (and cdir_pin for a two-pin H-bridge)`);
    const motor: MotorChannel = { pwm: this.pwm(ch, pin, this.opt.number('pwm_hz') ?? 1000, what), invert: ch.invert === true };
    for (const key of ['dir_pin', 'cdir_pin'] as const) {
      const p = this.pinOf(ch, key, what);
      if (p === undefined) continue;
      const l = this.line(p, `${what} ${key}`, { direction: 'out', initial: 0 });
      if (key === 'dir_pin') motor.dir = l; else motor.cdir = l;
    }
    return { motor, pin };
  }

  async open(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<void> {
    try {
      for (const a of actuators) this.openActuator(a);
      for (const s of sensors) {
        if (s.type !== 'digital') throw new LlmosError('ERR_BOARD_PROFILE', `sensor ${s.name}: GPIO reads only digital inputs (a ${s.type} sensor needs an ADC: use a Firmata or serial board)`);
        const pin = this.pinOf(s.channel, 'pin', `sensor ${s.name}`);
        if (pin === undefined) throw new LlmosError('ERR_BOARD_PROFILE', `sensor ${s.name}: channel pin is required`);
        this.inputs.set(s.name, { pin, line: this.line(pin, `sensor ${s.name}`, { direction: 'in', activeLow: s.channel['active_low'] === true }) });
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private openActuator(a: ActuatorSpec): void {
    const what = `actuator ${a.name}`;
    if (a.type === 'differential_drive') {
      for (const side of ['left', 'right'] as const) {
        const { motor, pin } = this.motor(a[side], `${what} ${side}`, a.range[0] < 0);
        this.outputs.set(`${a.name}.${side}`, { kind: 'motor', motor, pin });
        this.failsafeMotor(a.name, motor, side);
      }
      return;
    }
    if (a.type === 'motor') {
      const { motor, pin } = this.motor(a.channel, what, a.range[0] < 0);
      this.outputs.set(a.name, { kind: 'motor', motor, pin });
      this.failsafeMotor(a.name, motor);
      return;
    }
    const pin = this.pinOf(a.channel, 'pin', what);
    if (pin === undefined) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: channel pin is required`);
    switch (a.type) {
      case 'digital_out': {
        const safe: Level = a.safe_value === true || a.safe_value === 1 ? 1 : 0;
        const line = this.line(pin, what, { direction: 'out', initial: safe, activeLow: a.channel['active_low'] === true });
        this.outputs.set(a.name, { kind: 'digital', line, pin });
        this.failsafeLines.push({ actuator: a.name, gpio: line.gpio, safeLevel: safe });
        return;
      }
      case 'pwm':
        this.outputs.set(a.name, { kind: 'pwm', pwm: this.pwm(a.channel, pin, this.opt.number('pwm_hz') ?? 1000, what), pin });
        return;
      case 'servo':
        if (a.range[0] < 0 || a.range[1] > 180) throw new LlmosError('ERR_BOARD_PROFILE', `${what}: a servo's range is in degrees within 0..180 (pwm_range maps 0 and 180 to pulse widths), got [${a.range.join(', ')}]`);
        this.outputs.set(a.name, { kind: 'servo', pwm: this.pwm(a.channel, pin, this.opt.number('servo_hz') ?? 50, what), pin, range: a.channel.pwm_range ?? [500, 2500] });
        return;
      default:
        throw new LlmosError('ERR_BOARD_PROFILE', `${what}: a GPIO driver cannot drive a ${a.type} (use a serial driver)`);
    }
  }

  private failsafeMotor(actuator: string, m: MotorChannel, channel?: 'left' | 'right'): void {
    for (const l of [m.dir, m.cdir]) if (l) this.failsafeLines.push({ actuator, ...(channel ? { channel } : {}), gpio: l.gpio, safeLevel: 0 });
  }

  /** A servo's category-0 stop: pulse width 0, no pulses (the servo goes limp). */
  async release(target: WriteTarget): Promise<void> {
    const out = this.outputs.get(target.actuator.name);
    if (this.closed || out?.kind !== 'servo') throw new LlmosError('ERR_DRIVER', `GPIO driver "${this.name}" cannot release ${target.actuator.name}`);
    out.pwm.setPulseNs(0);
  }

  async write(target: WriteTarget, value: ActuatorValue): Promise<void> {
    const key = target.channel ? `${target.actuator.name}.${target.channel}` : target.actuator.name;
    if (this.closed) throw new LlmosError('ERR_DRIVER', `GPIO driver "${this.name}" is closed; cannot write ${key}`);
    const out = this.outputs.get(key);
    if (!out) throw new LlmosError('ERR_DRIVER', `GPIO driver "${this.name}" has no output ${key}`);
    try {
      switch (out.kind) {
        case 'digital':
          out.line.write(value === true || value === 1 ? 1 : 0);
          break;
        case 'pwm':
          out.pwm.setDuty(Number(value));
          break;
        case 'servo': {
          const [lo, hi] = out.range;
          out.pwm.setPulseNs((lo + (Math.min(180, Math.max(0, Number(value))) / 180) * (hi - lo)) * 1000);
          break;
        }
        case 'motor': {
          const m = out.motor;
          const v = (m.invert ? -1 : 1) * Number(value);
          // Never switch direction with the PWM on: cut it first. (Slowing down before a reversal
          // is the bank's max_rate ramp; motors get a default max_rate for that reason.)
          if (v === 0 || Math.sign(v) !== this.lastSign.get(key)) m.pwm.setDuty(0);
          m.dir?.write(v > 0 ? 1 : 0);
          m.cdir?.write(v < 0 ? 1 : 0);
          m.pwm.setDuty(Math.abs(v));
          this.lastSign.set(key, Math.sign(v));
          break;
        }
      }
    } catch (e) {
      throw new LlmosError('ERR_DRIVER', `${key} (pin ${out.pin}): GPIO write failed: ${(e as Error).message}`, undefined, { cause: e });
    }
    this.o.recorder?.record({ actuator: target.actuator.name, value, ...(target.channel ? { channel: target.channel } : {}), via: `gpio:${out.pin}` });
  }

  private readonly lastSign = new Map<string, number>();

  async read(sensor: SensorSpec): Promise<SensorReading> {
    const input = this.inputs.get(sensor.name);
    if (!input) throw new LlmosError('ERR_DRIVER', `GPIO driver "${this.name}" has no input ${sensor.name}`);
    try {
      return { value: input.line.read() === 1 };
    } catch (e) {
      throw new LlmosError('ERR_DRIVER', `sensor ${sensor.name} (pin ${input.pin}): GPIO read failed: ${(e as Error).message}`, undefined, { cause: e });
    }
  }

  async watch(spec: { pin: number | string; active_low?: boolean; debounce_ms?: number }, onChange: (active: boolean) => void, onLost?: (reason: string) => void): Promise<() => void> {
    const pin = this.pinOf({ pin: spec.pin }, 'pin', 'e-stop input') as number;
    const line = this.line(pin, 'e-stop input', { direction: 'in', edge: true, ...(spec.active_low ? { activeLow: true } : {}) });
    this.watched.push(line);
    const filter = pressFilter(onChange, spec.debounce_ms ?? 20);
    // The current level counts too: a button already pressed at boot must latch the e-stop.
    filter.sample(line.read() === 1);
    const stop = line.watch((level) => filter.sample(level === 1), (e) => onLost?.(`pin ${pin}: ${e.message}`));
    return () => { filter.stop(); stop(); };
  }

  failsafeTarget(): FailsafeTarget | undefined {
    if (this.failsafeLines.length === 0 && this.failsafePwms.length === 0) return undefined;
    return { kind: 'sysfs-gpio', root: this.backend.root, lines: [...this.failsafeLines], pwms: [...this.failsafePwms] };
  }

  /** Checks every declared pin without exporting or moving anything. */
  async probe(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<ProbeResult[]> {
    const rows: ProbeResult[] = [];
    const check = (name: string, kind: 'actuator' | 'sensor', pins: Array<{ pin: number; pwm?: ChannelSpec }>): void => {
      try {
        const chip = this.chipFor(`${kind} ${name}`);
        const parts: string[] = [];
        for (const { pin, pwm } of pins) {
          const gpio = sysfsNumber(chip, pin, `${kind} ${name}`);
          accessSync(this.root + '/export', constants.W_OK);
          let text = `pin ${pin} = gpio${gpio} on ${chip.label}`;
          if (pwm) {
            const address = this.pwmAddress(pwm, pin, chip, `${kind} ${name}`);
            accessSync(`${this.pwmRoot}/pwmchip${address.chip}/export`, constants.W_OK);
            text += ` (pwmchip${address.chip}/pwm${address.channel})`;
          }
          parts.push(text);
        }
        rows.push({ name, kind, ok: true, detail: parts.join('; ') });
      } catch (e) {
        const err = toLlmosError(e, 'ERR_DRIVER_UNAVAILABLE');
        rows.push({ name, kind, ok: false, detail: `${err.code}: ${err.message}` });
      }
    };
    for (const a of actuators) {
      const chans = a.type === 'differential_drive' ? [a.left, a.right] : [a.channel];
      const pins: Array<{ pin: number; pwm?: ChannelSpec }> = [];
      for (const ch of chans) {
        const p = this.pinOf(ch, 'pin', a.name);
        if (p !== undefined) pins.push(a.type === 'digital_out' ? { pin: p } : { pin: p, pwm: ch as ChannelSpec });
        for (const k of ['dir_pin', 'cdir_pin'] as const) {
          const d = this.pinOf(ch, k, a.name);
          if (d !== undefined) pins.push({ pin: d });
        }
      }
      check(a.name, 'actuator', pins);
    }
    for (const s of sensors) {
      const p = this.pinOf(s.channel, 'pin', s.name);
      check(s.name, 'sensor', p === undefined ? [] : [{ pin: p }]);
    }
    return rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Outputs to rest, then release every line and PWM channel (unexport).
    for (const out of this.outputs.values()) {
      try {
        if (out.kind === 'motor') {
          out.motor.pwm.setDuty(0);
          out.motor.dir?.write(0);
          out.motor.cdir?.write(0);
          out.motor.pwm.release();
          out.motor.dir?.release();
          out.motor.cdir?.release();
        } else if (out.kind === 'digital') {
          out.line.release();
        } else {
          out.pwm.release();
        }
      } catch { /* keep releasing the others */ }
    }
    // One line that fails to unexport must not keep the others claimed.
    for (const l of [...[...this.inputs.values()].map((i) => i.line), ...this.watched]) {
      try { l.release(); } catch { /* keep releasing the others */ }
    }
    this.outputs.clear();
    this.inputs.clear();
  }
}
