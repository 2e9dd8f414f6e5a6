/**
 * Firmata boards (Arduino and friends) through johnny-five: LEDs (digital_out, pwm), servos,
 * motors, a differential drive base built from two motors, and analog/digital sensors.
 *
 * johnny-five is handed a ready IO object and never a `port`: given a port it would load the
 * `firmata` package and serialport 8, whose native binding downloads a prebuilt binary at
 * install time. Our IO is firmata-io (transport-agnostic Firmata) over the project's own
 * serialport 13, or, with `io: mock`, the simulated twin in twins/j5-mock-io.ts. Both
 * libraries are imported only when a board profile uses this driver.
 *
 * Board options (board profile `drivers:` entry):
 *   { type: johnny-five, port: /dev/ttyACM0, io: firmata | mock, baud_rate: 57600, timeout_ms: 10000 }
 */
import type { Board, Sensor } from 'johnny-five';
import type { Clock } from '../../lib/clock.js';
import { LlmosError } from '../../lib/errors.js';
import { pressFilter } from '../debounce.js';
import { driverOptions } from '../options.js';
import type { WriteRecorder } from '../recorder.js';
import type {
  ActuatorSpec, ActuatorValue, Driver, DriverCapabilities, DriverInstanceSpec, ProbeResult, SensorReading, SensorSpec, WriteTarget,
} from '../types.js';
import type { MockFirmataIo, MockIoOptions } from './twins/j5-mock-io.js';
import { closeFirmata, firmataOverSerialport, type FirmataLike, type SerialPortClass } from './j5-firmata-io.js';
import { applyValue, createComponent, type Component } from './j5-components.js';
import { actuatorPinProblems, describePins, inputMode, sensorPinProblem } from './j5-pins.js';

export type { SerialPortClass } from './j5-firmata-io.js';

type Five = typeof import('johnny-five');

export interface JohnnyFiveOptions {
  port?: string;
  io: 'firmata' | 'mock';
  baudRate: number;
  timeoutMs: number;
  /** Raw ADC values for the mock board's analog channels. */
  mockAnalog?: Record<number, number>;
  /** Mock board that never answers (tests of the connect timeout). */
  mockSilent?: boolean;
}

export interface JohnnyFiveContext {
  clock: Clock;
  /** The board's shared timeline of actuator writes (simulated twins, --sim-log). */
  recorder?: WriteRecorder;
  /**
   * Makes the simulated board for `io: mock`. drivers/index.ts, the one place that chooses real
   * or twin, supplies it; a real board never loads the twin.
   */
  twin?: (options: MockIoOptions) => MockFirmataIo;
  SerialPort?: SerialPortClass;
}

export function parseOptions(spec: DriverInstanceSpec): JohnnyFiveOptions {
  const o = driverOptions(spec.options);
  const fail = (m: string): never => { throw new LlmosError('ERR_BOARD_PROFILE', `driver "${spec.name}" (johnny-five): ${m}`); };
  const io = o.raw('io') ?? 'firmata';
  if (io !== 'firmata' && io !== 'mock') fail(`io must be "firmata" or "mock", got ${JSON.stringify(io)}`);
  const port = o.raw('port');
  if (port !== undefined && typeof port !== 'string') fail('port must be a string such as /dev/ttyACM0');
  if (io === 'firmata' && !port) fail('port is required with io: firmata (e.g. /dev/ttyACM0)');
  const out: JohnnyFiveOptions = {
    io: io as JohnnyFiveOptions['io'],
    baudRate: o.number('baud_rate') ?? 57600,
    timeoutMs: o.number('timeout_ms') ?? 10000,
  };
  if (typeof port === 'string') out.port = port;
  const mockAnalog = o.raw('mock_analog');
  if (mockAnalog && typeof mockAnalog === 'object') out.mockAnalog = mockAnalog as Record<number, number>;
  if (o.raw('mock_silent') === true) out.mockSilent = true;
  return out;
}

export class JohnnyFiveDriver implements Driver {
  readonly name: string;
  readonly type = 'johnny-five' as const;
  readonly capabilities: DriverCapabilities;
  private readonly options: JohnnyFiveOptions;
  private readonly ctx: JohnnyFiveContext;
  private five: Five | undefined;
  private io: FirmataLike | undefined;
  private board: Board | undefined;
  private twinIo: MockFirmataIo | undefined;
  private readonly components = new Map<string, Component>();
  private readonly sensors = new Map<string, Sensor>();
  private actuators: readonly ActuatorSpec[] = [];
  private lost: string | undefined;
  private onLost: ((reason: string) => void) | undefined;
  private closed = false;

  constructor(spec: DriverInstanceSpec, ctx: JohnnyFiveContext) {
    this.name = spec.name;
    this.options = parseOptions(spec);
    this.ctx = ctx;
    this.capabilities = {
      actuatorTypes: ['differential_drive', 'servo', 'motor', 'digital_out', 'pwm'],
      sensorTypes: ['analog', 'digital'],
      simulated: this.options.io === 'mock',
    };
  }

  /** The simulated board when `io: mock` (tests read its recorded writes). */
  get mockIo(): MockFirmataIo | undefined {
    return this.twinIo;
  }

  private get where(): string {
    return `johnny-five board "${this.name}" ${this.options.io === 'mock' ? '(mock io)' : `on ${this.options.port}`}`;
  }

  async open(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<void> {
    if (this.board) return;
    if (this.closed) throw new LlmosError('ERR_DRIVER', `${this.where} is closed`);
    this.actuators = actuators;
    try {
      await this.connect();
      const problems = [...actuators.flatMap((a) => actuatorPinProblems(this.io as FirmataLike, a)), ...sensors.flatMap((s) => sensorPinProblem(this.io as FirmataLike, s) ?? [])];
      if (problems.length > 0) throw new LlmosError('ERR_BOARD_PROFILE', `${this.where}: ${problems.join('; ')}`);
      for (const s of sensors) this.sensorOf(s);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /**
   * A digital input reported by the board (the e-stop button): Firmata reports every change of
   * level, debounced here. The board must be open (the gate watches after opening drivers).
   */
  async watch(spec: { pin: number | string; active_low?: boolean; debounce_ms?: number }, onChange: (active: boolean) => void, onLost?: (reason: string) => void): Promise<() => void> {
    const io = this.io;
    if (!io || !this.board || this.lost) throw new LlmosError('ERR_DRIVER_DISCONNECTED', `${this.where}: cannot watch pin ${String(spec.pin)}: the board is not connected`);
    const pin = Number(spec.pin);
    // An active-low button pulls to ground: the board's pull-up keeps the pin from floating.
    const { mode, writeHigh } = inputMode(io, pin, spec.active_low === true);
    if (!Number.isInteger(pin) || mode === undefined || !io.pins[pin]?.supportedModes.includes(mode)) {
      throw new LlmosError('ERR_BOARD_PROFILE', `${this.where}: pin ${String(spec.pin)} cannot be a digital input${spec.active_low ? ' with pull-up' : ''}`);
    }
    io.pinMode(pin, mode);
    if (writeHigh) io.digitalWrite(pin, 1);
    const filter = pressFilter(onChange, spec.debounce_ms ?? 20);
    const watcher = { onLost: onLost ?? (() => undefined) };
    this.inputWatchers.add(watcher);
    // Firmata reports a whole 8-pin port on any change: only this pin's level counts.
    io.digitalRead(pin, (value) => filter.sample(spec.active_low ? value === 0 : value !== 0));
    return () => { filter.stop(); this.inputWatchers.delete(watcher); };
  }

  private readonly inputWatchers = new Set<{ onLost: (reason: string) => void }>();

  /** Connects the IO and waits for johnny-five's 'ready', or fails with a reason a person can act on. */
  private async connect(): Promise<void> {
    this.five = await loadJohnnyFive();
    const { io, start } = this.options.io === 'mock' ? { io: this.mockIoFor(), start: async () => undefined } : await firmataOverSerialport({
      path: this.options.port as string, baudRate: this.options.baudRate, timeoutMs: this.options.timeoutMs, where: this.where,
      ...(this.ctx.SerialPort ? { SerialPort: this.ctx.SerialPort } : {}),
    });
    this.io = io;
    // Losing the board after 'ready' is reported here; writes then fail with ERR_DRIVER_DISCONNECTED.
    io.on('close', () => this.markLost('the serial connection closed (cable unplugged or board reset?)'));
    io.on('disconnect', () => this.markLost('the board disconnected'));
    io.on('error', (e) => this.markLost(`transport error: ${errorText(e)}`));
    // Never `port` (see the file comment); no REPL, no console logging, no SIGINT handler of its own.
    const board = new this.five.Board({ io, id: this.name, repl: false, debug: false, sigint: false, timeout: this.options.timeoutMs });
    this.board = board;
    board.on('error', (e: unknown) => this.markLost(errorText(e)));
    // Only now: johnny-five must already listen when the port opens, or it never sees 'connect'.
    await start();
    await new Promise<void>((resolve, reject) => {
      // Real time, not the runtime clock: the board answers in real time even under a simulated clock.
      const timer = setTimeout(() => {
        board.off('ready', onReady);
        reject(new LlmosError('ERR_DRIVER_UNAVAILABLE', `${this.where} did not answer Firmata within ${this.options.timeoutMs} ms: is StandardFirmata flashed and the baud rate ${this.options.baudRate}?`));
      }, this.options.timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        this.onLost = undefined;
        resolve();
      };
      // A board lost before 'ready' fails the open now, not at the timeout.
      this.onLost = (reason) => {
        clearTimeout(timer);
        board.off('ready', onReady);
        reject(new LlmosError('ERR_DRIVER_UNAVAILABLE', `${this.where} was lost while connecting: ${reason}`));
      };
      board.once('ready', onReady);
    });
  }

  private mockIoFor(): MockFirmataIo {
    if (!this.ctx.twin) throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `${this.where}: io: mock needs the simulated board; open the driver through drivers/index.ts`);
    this.twinIo = this.ctx.twin({
      clock: this.ctx.clock,
      board: this.name,
      ...(this.options.mockAnalog ? { analog: this.options.mockAnalog } : {}),
      ...(this.options.mockSilent ? { silent: true } : {}),
      ...(this.ctx.recorder ? { recorder: this.ctx.recorder } : {}),
    });
    return this.twinIo;
  }

  private markLost(reason: string): void {
    if (this.closed || this.lost) return;
    this.lost = reason;
    this.onLost?.(reason);
    this.onLost = undefined;
    for (const w of this.inputWatchers) w.onLost(`${this.where}: ${reason}`);
  }

  private assertUsable(what: string): void {
    if (this.closed) throw new LlmosError('ERR_DRIVER', `${this.where} is closed; cannot ${what}`);
    if (this.lost) throw new LlmosError('ERR_DRIVER_DISCONNECTED', `${this.where} is disconnected (${this.lost}); cannot ${what}. Reconnect the board and restart.`);
    if (!this.board || !this.five) throw new LlmosError('ERR_DRIVER', `${this.where} is not open; cannot ${what}`);
    const transport = (this.io as { transport?: { isOpen?: boolean } } | undefined)?.transport;
    if (transport && transport.isOpen === false) {
      this.markLost('the serial port is no longer open');
      throw new LlmosError('ERR_DRIVER_DISCONNECTED', `${this.where} is disconnected (the serial port is no longer open); cannot ${what}`);
    }
  }

  async write(target: WriteTarget, value: ActuatorValue): Promise<void> {
    const spec = target.actuator;
    const key = target.channel ? `${spec.name}.${target.channel}` : spec.name;
    this.assertUsable(`write ${key}`);
    try {
      applyValue(this.componentOf(spec, target.channel), spec, value, this.where);
    } catch (e) {
      if (e instanceof LlmosError) throw e;
      // A throwing IO write means the transport is gone: every later write fails the same way.
      this.markLost(`write failed: ${errorText(e)}`);
      throw new LlmosError('ERR_DRIVER_DISCONNECTED', `${this.where}: writing ${key} failed (${errorText(e)}); the board is treated as disconnected`, undefined, { cause: e });
    }
    // The mock Uno logs each pin; the shared timeline gets the actuator-level write too.
    if (this.options.io === 'mock') this.ctx.recorder?.record({ actuator: spec.name, value, ...(target.channel ? { channel: target.channel } : {}), via: `firmata:${this.name}` });
  }

  /** Creates the johnny-five component on first use: attaching a servo moves it, so open() does not. */
  private componentOf(spec: ActuatorSpec, side: 'left' | 'right' | undefined): Component {
    const key = side ? `${spec.name}.${side}` : spec.name;
    const existing = this.components.get(key);
    if (existing) return existing;
    const c = createComponent({ five: this.five as Five, board: this.board as Board, io: this.io as FirmataLike, where: this.where }, spec, side);
    this.components.set(key, c);
    return c;
  }

  async read(sensor: SensorSpec): Promise<SensorReading> {
    this.assertUsable(`read ${sensor.name}`);
    const s = this.sensorOf(sensor);
    let raw = s.raw;
    if (raw === null || raw === undefined) raw = await this.firstSample(s, sensor);
    this.assertUsable(`read ${sensor.name}`);
    const unit = sensor.unit ? { unit: sensor.unit } : {};
    if (sensor.type === 'digital') return { value: raw !== 0, ...unit };
    // With a declared range johnny-five scales the raw count (fscaleTo); without one the count is the value.
    const value = sensor.range ? Math.round(clamp(s.fscaleTo(sensor.range[0], sensor.range[1]), sensor.range) * 1000) / 1000 : raw;
    return { value, ...unit };
  }

  private firstSample(s: Sensor, sensor: SensorSpec): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.off('data', onData);
        reject(new LlmosError('ERR_DRIVER', `${this.where}: no reading from ${sensor.name} (pin ${String(sensor.channel.pin)}) within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      const onData = (): void => {
        if (s.raw === null || s.raw === undefined) return;
        clearTimeout(timer);
        s.off('data', onData);
        resolve(s.raw);
      };
      s.on('data', onData);
    });
  }

  private sensorOf(spec: SensorSpec): Sensor {
    const existing = this.sensors.get(spec.name);
    if (existing) return existing;
    const five = this.five as Five;
    const s = new five.Sensor({ board: this.board as Board, id: spec.name, pin: spec.channel.pin as number, type: spec.type === 'digital' ? 'digital' : 'analog' });
    this.sensors.set(spec.name, s);
    return s;
  }

  async probe(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<ProbeResult[]> {
    // A probe from --check-board comes before open: connecting (the Firmata handshake) moves nothing.
    let connectError: string | undefined;
    if (!this.board && !this.closed && !this.lost) {
      try { await this.connect(); } catch (e) { connectError = e instanceof LlmosError ? `${e.code}: ${e.message}` : errorText(e); }
    }
    const down = connectError ? 'connect failed' : this.closed ? 'driver is closed' : this.lost ? `board disconnected: ${this.lost}` : !this.board ? 'board not connected' : undefined;
    const where = (d: string): string => (connectError ?? `${this.where}: ${d}`);
    const rows: ProbeResult[] = [];
    for (const a of actuators) {
      if (down) { rows.push({ name: a.name, kind: 'actuator', ok: false, detail: where(down) }); continue; }
      const problems = actuatorPinProblems(this.io as FirmataLike, a);
      rows.push({ name: a.name, kind: 'actuator', ok: problems.length === 0, detail: problems.length ? problems.join('; ') : `${describePins(a)} on ${this.boardLabel()}` });
    }
    for (const s of sensors) {
      if (down) { rows.push({ name: s.name, kind: 'sensor', ok: false, detail: where(down) }); continue; }
      const problem = sensorPinProblem(this.io as FirmataLike, s);
      if (problem) { rows.push({ name: s.name, kind: 'sensor', ok: false, detail: problem }); continue; }
      // Reading an input moves nothing.
      try {
        const r = await this.read(s);
        rows.push({ name: s.name, kind: 'sensor', ok: true, detail: `pin ${String(s.channel.pin)} reads ${String(r.value)}${r.unit ? ` ${r.unit}` : ''} on ${this.boardLabel()}` });
      } catch (e) {
        rows.push({ name: s.name, kind: 'sensor', ok: false, detail: errorText(e) });
      }
    }
    return rows;
  }

  private boardLabel(): string {
    return this.options.io === 'mock' ? 'mock Uno' : String(this.options.port);
  }

  /** Brings created outputs to their safe values (when the board is still there), then releases everything. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.board && !this.lost) {
      for (const a of this.actuators) {
        if (a.safe_value === 'hold') continue;
        const sides: Array<'left' | 'right' | undefined> = a.type === 'differential_drive' ? ['left', 'right'] : [undefined];
        for (const side of sides) {
          const c = this.components.get(side ? `${a.name}.${side}` : a.name);
          if (!c) continue; // never commanded: still in its power-on state
          try { applyValue(c, a, a.safe_value, this.where); } catch { /* best effort: keep releasing the rest */ }
        }
      }
    }
    this.closed = true;
    for (const s of this.sensors.values()) s.disable(); // stops johnny-five's sampling interval
    for (const c of this.components.values()) {
      if (c.kind === 'led') c.led.stop();
    }
    this.sensors.clear();
    this.components.clear();
    const board = this.board;
    if (board) {
      if (board.timer) clearTimeout(board.timer);
      board.removeAllListeners();
      const cache = (this.five as Five).Board.cache;
      const i = cache.indexOf(board);
      if (i >= 0) cache.splice(i, 1);
      (this.five as Five).Board.Pins.normalize.clear();
    }
    const io = this.io;
    if (io && io === this.twinIo) this.twinIo.close();
    else if (io) await closeFirmata(io);
    this.board = undefined;
  }
}

function clamp(v: number, [lo, hi]: [number, number]): number {
  return Math.min(hi, Math.max(lo, v));
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** johnny-five is CommonJS; its module object is the default export under ESM. */
async function loadJohnnyFive(): Promise<Five> {
  try {
    const mod = await import('johnny-five');
    return ((mod as unknown as { default?: Five }).default ?? mod) as Five;
  } catch (e) {
    throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `johnny-five is not installed (npm install johnny-five firmata-io): ${errorText(e)}`, undefined, { cause: e });
  }
}
