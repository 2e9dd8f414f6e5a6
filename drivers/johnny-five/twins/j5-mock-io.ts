/**
 * The simulated twin of a Firmata board: a johnny-five IO plugin (the same object shape as
 * firmata-io's `Firmata`) that presents an Arduino Uno and records every call johnny-five makes
 * on it as `{t, pin, op, value}`. johnny-five's real Board, Led, Servo, Motor and Sensor code
 * runs against it, so tests assert what the pins would have seen, not what our driver meant.
 *
 * Faults for tests: `disconnect()` (cable pulled: 'close'), `fail(err)` ('error'), and
 * `failWrites(err)` (every later write throws, like a dead transport).
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../lib/clock.js';
import { WriteRecorder } from '../../recorder.js';
import { firmwareRange } from '../j5-servo.js';

export type MockIoOp = 'pinMode' | 'digitalWrite' | 'analogWrite' | 'servoWrite' | 'servoConfig' | 'analogRead' | 'digitalRead';

export interface MockIoWrite {
  /** Milliseconds on the recorder's timeline (the board's shared one, or the mock's own). */
  t: number;
  pin: number;
  op: MockIoOp;
  /** pinMode: the mode name (OUTPUT, PWM, SERVO, ANALOG, INPUT); servoConfig: [min, max] µs; servoWrite: the pulse in µs. */
  value: number | string | [number, number];
}

export interface MockIoOptions {
  clock: Clock;
  /** Board name, used in log lines. */
  board?: string;
  /** Raw ADC values per analog channel (0..1023) before any setAnalog(); default 512. */
  analog?: Record<number, number>;
  /** Never emit 'ready' (a board without Firmata on it). */
  silent?: boolean;
  /**
   * The board's shared recorder: each call becomes a line `{t, pin, op, value, board}` on its
   * timeline (and in its --sim-log file). Without one the mock keeps its own, in memory.
   */
  recorder?: WriteRecorder;
}

const MODES = { INPUT: 0x00, OUTPUT: 0x01, ANALOG: 0x02, PWM: 0x03, SERVO: 0x04, PULLUP: 0x0b } as const;
const MODE_NAMES = new Map<number, string>(Object.entries(MODES).map(([k, v]) => [v, k]));
const UNO_PWM = new Set([3, 5, 6, 9, 10, 11]);
const UNO_ANALOG = [14, 15, 16, 17, 18, 19];

interface PinInfo { supportedModes: number[]; analogChannel: number; mode?: number; value: number; report: number }

/** The pin table an Uno reports to Firmata's capability and analog-mapping queries. */
function unoPins(): PinInfo[] {
  const pins: PinInfo[] = [];
  for (let p = 0; p < 20; p++) {
    const analog = UNO_ANALOG.indexOf(p);
    const modes: number[] = p < 2 ? [] : [MODES.INPUT, MODES.OUTPUT, MODES.PULLUP];
    if (analog >= 0) modes.push(MODES.ANALOG);
    if (UNO_PWM.has(p)) modes.push(MODES.PWM);
    if (p >= 2 && p < 14) modes.push(MODES.SERVO);
    pins.push({ supportedModes: modes, analogChannel: analog >= 0 ? analog : 127, value: 0, report: 0 });
  }
  return pins;
}

export class MockFirmataIo extends EventEmitter {
  // The IO-plugin contract johnny-five reads.
  readonly name = 'Mock';
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly RESOLUTION = { ADC: 1023, DAC: null, PWM: 255 };
  readonly defaultLed = 13;
  readonly pins: PinInfo[] = unoPins();
  readonly analogPins: number[] = [...UNO_ANALOG];
  isReady = false;
  pending = 0;

  /** Every call johnny-five made, in order. */
  readonly writes: MockIoWrite[] = [];
  private readonly recorder: WriteRecorder;
  private readonly board: string;
  private readonly analog = new Map<number, number>();
  private readonly analogReaders = new Map<number, Array<(v: number) => void>>();
  private readonly digitalReaders = new Map<number, Array<(v: number) => void>>();
  private writeFault: Error | undefined;
  private closed = false;

  constructor(options: MockIoOptions) {
    super();
    this.recorder = options.recorder ?? new WriteRecorder(options.clock);
    this.board = options.board ?? 'mock';
    for (const [ch, v] of Object.entries(options.analog ?? {})) this.analog.set(Number(ch), v);
    // Like a real board, answer after the caller has subscribed (johnny-five listens in its constructor).
    if (!options.silent) {
      setImmediate(() => {
        if (this.closed) return;
        this.isReady = true;
        this.emit('connect');
        this.emit('ready');
      });
    }
  }

  // ---- IO-plugin methods johnny-five calls ----

  pinMode(pin: number, mode: number): this {
    this.record(pin, 'pinMode', MODE_NAMES.get(mode) ?? mode);
    this.pinInfo(pin).mode = mode;
    // An open input with the pull-up on reads high.
    if (mode === MODES.PULLUP) this.pinInfo(pin).value = 1;
    return this;
  }

  digitalWrite(pin: number, value: number): this {
    this.record(pin, 'digitalWrite', value ? 1 : 0);
    this.pinInfo(pin).value = value ? 1 : 0;
    return this;
  }

  analogWrite(pin: number, value: number): this {
    this.record(pin, 'analogWrite', value);
    this.pinInfo(pin).value = value;
    return this;
  }

  pwmWrite(pin: number, value: number): this {
    return this.analogWrite(pin, value);
  }

  /**
   * Records the pulse width the pin gets, as StandardFirmata's Servo::write makes it: a value
   * below 544 is an angle mapped into the configured range, anything else µs clamped to it.
   */
  servoWrite(pin: number, value: number): this {
    const [min, max] = this.servoRanges.get(pin) ?? [544, 2400];
    const us = value < 544 ? min + Math.trunc((Math.min(180, Math.max(0, Math.trunc(value))) * (max - min)) / 180) : Math.min(max, Math.max(min, value));
    this.record(pin, 'servoWrite', us);
    this.pinInfo(pin).value = us;
    return this;
  }

  private readonly servoRanges = new Map<number, [number, number]>();

  servoConfig(pin: number, min: number, max: number): this {
    this.record(pin, 'servoConfig', [min, max]);
    const r = firmwareRange([min, max]);
    this.servoRanges.set(pin, [r.min, r.max]);
    this.pinInfo(pin).mode = MODES.SERVO;
    return this;
  }

  /** Continuous reporting, like Firmata: the callback gets every new sample of the channel. */
  analogRead(channel: number, callback: (value: number) => void): void {
    this.record(channel, 'analogRead', 1);
    const list = this.analogReaders.get(channel) ?? [];
    list.push(callback);
    this.analogReaders.set(channel, list);
    setImmediate(() => { if (!this.closed) callback(this.analog.get(channel) ?? 512); });
  }

  digitalRead(pin: number, callback: (value: number) => void): void {
    this.record(pin, 'digitalRead', 1);
    const list = this.digitalReaders.get(pin) ?? [];
    list.push(callback);
    this.digitalReaders.set(pin, list);
    setImmediate(() => { if (!this.closed) callback(this.pinInfo(pin).value ? 1 : 0); });
  }

  /** A digital input changes level (a button pressed or let go); every reader sees it. */
  setDigital(pin: number, level: 0 | 1): void {
    this.pinInfo(pin).value = level;
    for (const cb of this.digitalReaders.get(pin) ?? []) cb(level);
  }

  reportAnalogPin(): void { /* reporting is always on in the mock */ }
  reportDigitalPin(): void { /* reporting is always on in the mock */ }

  // ---- the test side ----

  /** A new raw ADC sample on an analog channel (0..1023); every reader sees it. */
  setAnalog(channel: number, raw: number): void {
    this.analog.set(channel, raw);
    for (const cb of this.analogReaders.get(channel) ?? []) cb(raw);
  }

  /** The cable is pulled: the transport closes. */
  disconnect(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  /** The transport reports an error (EIO, framing). */
  fail(error: Error): void {
    this.emit('error', error);
  }

  /** Every later write throws this error, as a dead transport would. */
  failWrites(error: Error): void {
    this.writeFault = error;
  }

  /** Called by the driver on close: the board is released. */
  close(): void {
    this.closed = true;
    this.analogReaders.clear();
    this.removeAllListeners();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The last value written to a pin (0/1 digital, 0..255 PWM, µs for a servo). */
  pinValue(pin: number): number {
    return this.pinInfo(pin).value;
  }

  private pinInfo(pin: number): PinInfo {
    const info = this.pins[pin];
    if (!info) throw new Error(`mock board ${this.board}: no pin ${pin}`);
    return info;
  }

  private record(pin: number, op: MockIoOp, value: MockIoWrite['value']): void {
    const isWrite = op !== 'analogRead' && op !== 'digitalRead';
    if (isWrite && this.writeFault) throw this.writeFault;
    if (isWrite && this.closed) throw new Error('transport is closed');
    const { board: _board, ...w } = this.recorder.recordLine({ pin, op, value, board: this.board });
    this.writes.push(w);
  }
}
