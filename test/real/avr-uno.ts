/**
 * An Arduino Uno (ATmega328P at 16 MHz) emulated by avr8js, running a real compiled sketch
 * (StandardFirmata in the tests). What the board's pins do is measured against the CPU's cycle
 * counter: output levels, high-pulse widths (servo pulses) and PWM duty; the test drives digital
 * inputs and analog voltages. Runs paced to real time (a real Uno talks at a real baud rate), and
 * as fast as it can when it falls behind.
 */
import { readFileSync } from 'node:fs';
import {
  AVRADC, AVRClock, AVRIOPort, AVRTimer, AVRUSART, CPU, adcConfig, avrInstruction, clockConfig, portBConfig, portCConfig, portDConfig,
  timer0Config, timer1Config, timer2Config, usart0Config,
} from 'avr8js';

const FREQ = 16_000_000;

/** Intel HEX -> program memory bytes. */
export function loadHex(text: string, into: Uint8Array): void {
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith(':')) continue;
    const bytes = Buffer.from(line.slice(1), 'hex');
    const [count = 0, hi = 0, lo = 0, type = 0] = bytes;
    if (type !== 0) continue;
    into.set(bytes.subarray(4, 4 + count), (hi << 8) | lo);
  }
}

/** Arduino digital pin number -> port and bit (D0-7 PORTD, D8-13 PORTB, D14-19 = A0-A5 PORTC). */
function portOf(pin: number): { port: 'B' | 'C' | 'D'; bit: number } {
  if (pin >= 0 && pin < 8) return { port: 'D', bit: pin };
  if (pin >= 8 && pin < 14) return { port: 'B', bit: pin - 8 };
  if (pin >= 14 && pin < 20) return { port: 'C', bit: pin - 14 };
  throw new Error(`no Uno pin ${pin}`);
}

interface PinTrace {
  level: boolean;
  since: number;
  /** Completed high pulses, in µs, oldest first (bounded). */
  pulses: number[];
  /** Last full period's high and low time in cycles (PWM duty). */
  lastHigh: number;
  lastLow: number;
}

export class AvrUno {
  readonly cpu: CPU;
  readonly usart: AVRUSART;
  readonly adc: AVRADC;
  private readonly ports: Record<'B' | 'C' | 'D', AVRIOPort>;
  private readonly program: Uint16Array;
  private readonly rx: number[] = [];
  private readonly traces = new Map<number, PinTrace>();
  onTransmit: (byte: number) => void = () => undefined;

  constructor(hexFile: string) {
    this.program = new Uint16Array(0x8000 / 2);
    loadHex(readFileSync(hexFile, 'utf8'), new Uint8Array(this.program.buffer));
    this.cpu = new CPU(this.program);
    const cpu = this.cpu;
    new AVRTimer(cpu, timer0Config);
    new AVRTimer(cpu, timer1Config);
    new AVRTimer(cpu, timer2Config);
    new AVRClock(cpu, FREQ, clockConfig);
    this.usart = new AVRUSART(cpu, usart0Config, FREQ);
    this.adc = new AVRADC(cpu, adcConfig);
    this.ports = { B: new AVRIOPort(cpu, portBConfig), C: new AVRIOPort(cpu, portCConfig), D: new AVRIOPort(cpu, portDConfig) };
    this.usart.onByteTransmit = (b) => this.onTransmit(b);
    this.usart.onRxComplete = () => this.feed();
    for (const [name, port] of Object.entries(this.ports) as Array<['B' | 'C' | 'D', AVRIOPort]>) {
      port.addListener((value, old) => this.onPort(name, value, old));
    }
    // Nothing connected: a pin reads its pull-up (high when the firmware turned it on, else low).
    for (let pin = 0; pin < 20; pin++) this.setInput(pin, null);
  }

  /** Bytes from the host, delivered at the USART's own pace. */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.rx.push(b);
    this.feed();
  }

  private feed(): void {
    if (this.rx.length === 0 || this.usart.rxBusy) return;
    if (this.usart.writeByte(this.rx[0] as number)) this.rx.shift();
  }

  /** Drives an input high or low; null lets it float (then only its pull-up can hold it high). */
  setInput(pin: number, high: boolean | null): void {
    const { port, bit } = portOf(pin);
    if (high === null) {
      this.floating.add(pin);
      this.ports[port].setPin(bit, (this.pullUps[port] & (1 << bit)) !== 0);
    } else {
      this.floating.delete(pin);
      this.ports[port].setPin(bit, high);
    }
  }

  private readonly floating = new Set<number>();
  /** The PORT bits of input pins: their pull-ups. */
  private readonly pullUps: Record<'B' | 'C' | 'D', number> = { B: 0, C: 0, D: 0 };

  /** Volts on analog channel 0..5 (AVcc 5 V). */
  setAnalog(channel: number, volts: number): void {
    this.adc.channelValues[channel] = volts;
  }

  level(pin: number): boolean {
    return this.trace(pin).level;
  }

  pulses(pin: number): number[] {
    return [...this.trace(pin).pulses];
  }

  clearPulses(pin: number): void {
    this.trace(pin).pulses.length = 0;
  }

  /** Duty of the last full PWM period (0..1), or the steady level when nothing toggles. */
  duty(pin: number): number {
    const t = this.trace(pin);
    const idle = this.cpu.cycles - t.since;
    const period = t.lastHigh + t.lastLow;
    if (period === 0 || idle > 4 * period) return t.level ? 1 : 0;
    return t.lastHigh / period;
  }

  private trace(pin: number): PinTrace {
    let t = this.traces.get(pin);
    if (!t) {
      t = { level: false, since: this.cpu.cycles, pulses: [], lastHigh: 0, lastLow: 0 };
      this.traces.set(pin, t);
    }
    return t;
  }

  private onPort(port: 'B' | 'C' | 'D', value: number, old: number): void {
    const base = port === 'D' ? 0 : port === 'B' ? 8 : 14;
    this.pullUps[port] = value;
    for (const pin of this.floating) {
      const at = portOf(pin);
      if (at.port === port) this.ports[port].setPin(at.bit, (value & (1 << at.bit)) !== 0);
    }
    const changed = value ^ old;
    if (!changed) return;
    for (let bit = 0; bit < 8; bit++) {
      if (!(changed & (1 << bit))) continue;
      const pin = base + bit;
      if (pin > 19) continue;
      const t = this.trace(pin);
      const high = (value & (1 << bit)) !== 0;
      const width = this.cpu.cycles - t.since;
      if (t.level && !high) {
        t.lastHigh = width;
        t.pulses.push(Math.round(width / (FREQ / 1e6)));
        if (t.pulses.length > 2000) t.pulses.shift();
      } else if (!t.level && high) t.lastLow = width;
      t.level = high;
      t.since = this.cpu.cycles;
    }
  }

  /** Runs `cycles` CPU cycles. */
  run(cycles: number): void {
    const cpu = this.cpu;
    const end = cpu.cycles + cycles;
    while (cpu.cycles < end) {
      avrInstruction(cpu);
      cpu.tick();
    }
  }

  /** Emulated microseconds since reset. */
  get micros(): number {
    return this.cpu.cycles / 16;
  }
}

export const UNO_FREQ = FREQ;
