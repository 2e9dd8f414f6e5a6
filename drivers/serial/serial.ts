/**
 * Line-oriented serial devices through serialport: a controller that takes one command per line
 * and answers with one line. Commands are sent one at a time (a reply always belongs to the
 * request it follows), a reply that does not come within the timeout is an error, and an
 * unplugged device is reopened with backoff until it comes back; while it is gone every request
 * fails at once with ERR_DRIVER_DISCONNECTED naming the port.
 *
 * Besides `serial_line` actuators, servos, motors, lights and pwm outputs can be driven over the
 * line with a template in their channel: `channel: { line: "GRIP {value}", expect: "^OK" }`.
 *
 * Driver options (board profile `drivers.<name>`): port, baud_rate (115200), delimiter ("\n"),
 * reply_timeout_ms (1000), reconnect_ms (250), max_reconnect_ms (5000), probe_line.
 */
import { createRequire } from 'node:module';
import type { SerialPortStream } from '@serialport/stream';
import { LlmosError } from '../../lib/errors.js';
import type { WriteRecorder } from '../recorder.js';
import type {
  ActuatorSpec, ActuatorValue, Driver, DriverCapabilities, DriverInstanceSpec, ProbeResult, SensorReading, SensorSpec, WriteTarget,
} from '../types.js';

export interface SerialDriverOptions {
  name: string;
  options: DriverInstanceSpec['options'];
  recorder?: WriteRecorder;
  /** A binding in place of the native one (the simulated twin, tests). */
  binding?: SerialBinding;
}

/** The part of serialport's binding interface a twin provides (see twins/serial-device.ts). */
export interface SerialBindingPort {
  isOpen: boolean;
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
  write(buffer: Buffer): Promise<void>;
  close(): Promise<void>;
}
export interface SerialBinding {
  open(options: { path: string; baudRate: number }): Promise<SerialBindingPort>;
  list(): Promise<unknown[]>;
}

interface PortSettings {
  path: string;
  baudRate: number;
  delimiter: string;
  replyTimeoutMs: number;
}

const require_ = createRequire(import.meta.url);

/** The shortest wait for late lines (discarded) after a reply timed out. */
const MIN_SETTLE_MS = 20;

/** One physical port, shared by the actuators that name it. */
export class SerialConnection {
  private port: SerialPortStream | undefined;
  private connected = false;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private lastError = '';
  private queue: Promise<unknown> = Promise.resolve();
  private waiter: { resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  /** Lines that arrived with no request waiting (device chatter); kept for diagnostics. */
  readonly unsolicited: string[] = [];
  private readonly listeners = new Set<(event: 'disconnected' | 'reconnected', detail: string) => void>();

  readonly settings: PortSettings;
  private readonly binding: SerialBinding | undefined;
  private readonly backoff: { minMs: number; maxMs: number };

  constructor(settings: PortSettings, binding: SerialBinding | undefined, backoff: { minMs: number; maxMs: number }) {
    this.settings = settings;
    this.binding = binding;
    this.backoff = backoff;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  on(listener: (event: 'disconnected' | 'reconnected', detail: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private create(): SerialPortStream {
    const { path, baudRate, delimiter } = this.settings;
    let port: SerialPortStream;
    if (this.binding) {
      const { SerialPortStream: Stream } = require_('@serialport/stream') as typeof import('@serialport/stream');
      // The twin implements the subset of the binding interface the stream uses.
      port = new Stream({ binding: this.binding as unknown as ConstructorParameters<typeof Stream>[0]['binding'], path, baudRate, autoOpen: false });
    } else {
      // The native binding is loaded only for a real port.
      const { SerialPort } = require_('serialport') as typeof import('serialport');
      port = new SerialPort({ path, baudRate, autoOpen: false });
    }
    const { ReadlineParser } = require_('@serialport/parser-readline') as typeof import('@serialport/parser-readline');
    const parser = port.pipe(new ReadlineParser({ delimiter, encoding: 'utf8' }));
    parser.on('data', (raw: string) => {
      const line = raw.replace(/\r$/, '');
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w.resolve(line);
      } else if (this.unsolicited.push(line) > 100) {
        this.unsolicited.shift();
      }
    });
    // Errors are reported through requests and the close event; never let one go unhandled.
    port.on('error', (e: Error) => { this.lastError = e.message; });
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (port !== this.port) return;
      this.connected = false;
      this.waiter?.reject(this.disconnectedError(err?.message ?? 'port closed'));
      this.waiter = undefined;
      if (!this.closing) {
        this.lastError = err?.message ?? 'port closed';
        for (const l of this.listeners) l('disconnected', this.lastError);
        this.scheduleReconnect();
      }
    });
    return port;
  }

  private disconnectedError(reason: string): LlmosError {
    return new LlmosError('ERR_DRIVER_DISCONNECTED', `serial device ${this.settings.path} is disconnected (${reason}); reconnecting${this.attempts ? ` (attempt ${this.attempts})` : ''}`);
  }

  async open(): Promise<void> {
    const port = this.create();
    this.port = port;
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    if (this.closing) {
      // close() ran while this (re)open was in flight: do not leave a port open behind it.
      await new Promise<void>((resolve) => port.close(() => resolve()));
      return;
    }
    this.connected = true;
    this.attempts = 0;
  }

  /** Opens the port, translating the usual failures into what to do about them. */
  async openOrExplain(): Promise<void> {
    try {
      await this.open();
    } catch (e) {
      throw explainOpenError(this.settings.path, e);
    }
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** Math.min(this.attempts, 10));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.attempts++;
      this.open().then(
        () => { for (const l of this.listeners) l('reconnected', this.settings.path); },
        (e: Error) => { this.lastError = e.message; this.scheduleReconnect(); },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Sends one line; with awaitReply, resolves with the next line the device sends. */
  request(line: string, awaitReply: boolean, timeoutMs: number, guard?: () => void): Promise<string | undefined> {
    const run = async (): Promise<string | undefined> => {
      if (this.timedOutAfter > 0) await this.settleAfterTimeout();
      const port = this.port;
      // isOpen turns false the moment a disconnect is seen, before the close event arrives.
      if (!this.connected || !port || !port.isOpen) throw this.disconnectedError(this.lastError || 'not open');
      // Waiting our turn (or for a late reply to pass) took time: is this line still allowed?
      guard?.();
      const reply = awaitReply ? this.nextLine(line, timeoutMs) : undefined;
      reply?.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      // A write to a port that is going away may never call back: it gets the reply timeout too.
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the write did not complete within ${timeoutMs} ms`)), timeoutMs);
        port.write(`${line}${this.settings.delimiter}`, (err) => (err ? reject(err) : resolve()));
      }).catch((e: Error) => {
        this.waiter = undefined;
        throw new LlmosError('ERR_DRIVER_DISCONNECTED', `serial device ${this.settings.path}: writing "${line}" failed: ${e.message}`, undefined, { cause: e });
      }).finally(() => clearTimeout(timer));
      return reply;
    };
    // One request at a time: a reply belongs to the line before it.
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private nextLine(line: string, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        // The reply may still come: it must not be taken as the answer to the next line.
        this.timedOutAfter = timeoutMs;
        reject(new LlmosError('ERR_SERIAL_TIMEOUT', `serial device ${this.settings.path}: no reply to "${line}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (l) => { clearTimeout(timer); resolve(l); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  /** The timeout of the last request that got no reply (0: none pending). */
  private timedOutAfter = 0;

  /**
   * After a timeout: drop what the device buffered and give a late reply as long again to
   * arrive unclaimed, so it is never taken as the answer to the next line.
   */
  private async settleAfterTimeout(): Promise<void> {
    const wait = Math.max(MIN_SETTLE_MS, this.timedOutAfter);
    this.timedOutAfter = 0;
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.flush(() => resolve()));
    await new Promise<void>((resolve) => setTimeout(resolve, wait));
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const port = this.port;
    this.connected = false;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

export function explainOpenError(path: string, e: unknown): LlmosError {
  const msg = (e as Error).message ?? String(e);
  const hint = /ENOENT|No such file/i.test(msg) ? ' (not plugged in? see ls /dev/serial/by-id)'
    : /EACCES|Permission denied/i.test(msg) ? ' (add the user to the dialout group)'
      : /EBUSY|Resource busy|lock/i.test(msg) ? ' (another program has the port open)' : '';
  return new LlmosError('ERR_DRIVER_UNAVAILABLE', `cannot open serial device ${path}: ${msg}${hint}`, undefined, { cause: e });
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Fills a channel's line template with a value: `GRIP {value}`. */
export function formatLine(template: string, value: ActuatorValue): string {
  const v = typeof value === 'boolean' ? (value ? '1' : '0') : typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : value;
  return template.replace(/\{value\}/g, v);
}

export class SerialDriver implements Driver {
  readonly name: string;
  readonly type = 'serial' as const;
  readonly capabilities: DriverCapabilities;
  private readonly connections = new Map<string, SerialConnection>();
  private readonly byActuator = new Map<string, SerialConnection>();
  private closed = false;

  private readonly o: SerialDriverOptions;

  constructor(o: SerialDriverOptions) {
    this.o = o;
    this.name = o.name;
    this.capabilities = {
      actuatorTypes: ['serial_line', 'servo', 'motor', 'digital_out', 'pwm'],
      sensorTypes: ['serial_query'],
      simulated: o.recorder !== undefined,
    };
  }

  private settingsFor(a: ActuatorSpec): PortSettings {
    const path = a.port ?? text(this.o.options['port']);
    if (!path) throw new LlmosError('ERR_BOARD_PROFILE', `actuator ${a.name}: no serial port (set port on the actuator or the ${this.name} driver)`);
    return {
      path,
      baudRate: a.baud_rate ?? int(this.o.options['baud_rate']) ?? 115200,
      delimiter: a.delimiter ?? text(this.o.options['delimiter']) ?? '\n',
      replyTimeoutMs: a.reply_timeout_ms ?? int(this.o.options['reply_timeout_ms']) ?? 1000,
    };
  }

  private connectionFor(a: ActuatorSpec): SerialConnection {
    const s = this.settingsFor(a);
    let c = this.connections.get(s.path);
    if (c && (c.settings.baudRate !== s.baudRate || c.settings.delimiter !== s.delimiter)) {
      throw new LlmosError('ERR_BOARD_PROFILE', `actuator ${a.name}: port ${s.path} is shared with another actuator at ${c.settings.baudRate} baud and delimiter ${JSON.stringify(c.settings.delimiter)}, but it asks for ${s.baudRate} and ${JSON.stringify(s.delimiter)}`);
    }
    if (!c) {
      c = new SerialConnection(s, this.o.binding, { minMs: int(this.o.options['reconnect_ms']) ?? 250, maxMs: int(this.o.options['max_reconnect_ms']) ?? 5000 });
      this.connections.set(s.path, c);
    }
    return c;
  }

  /** Connections by port path (diagnostics, tests). */
  connection(path: string): SerialConnection | undefined {
    return this.connections.get(path);
  }

  async open(actuators: readonly ActuatorSpec[], _sensors: readonly SensorSpec[]): Promise<void> {
    for (const a of actuators) {
      if (a.type !== 'serial_line' && typeof a.channel['line'] !== 'string') {
        throw new LlmosError('ERR_BOARD_PROFILE', `actuator ${a.name}: a ${a.type} on a serial driver needs channel.line, a template such as "SERVO {value}"`);
      }
      this.byActuator.set(a.name, this.connectionFor(a));
    }
    try {
      for (const c of this.connections.values()) await c.openOrExplain();
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private allowed(a: ActuatorSpec, line: string): void {
    // The gate checks the allow-list first; the driver checks again so nothing else reaches the wire.
    if (a.allow && !a.allow.some((re) => new RegExp(re).test(line))) {
      throw new LlmosError('ERR_SAFETY_SERIAL_LINE', `${a.name}: "${line}" is not in the allow-list`);
    }
    if (/[\r\n]/.test(line)) throw new LlmosError('ERR_SAFETY_SERIAL_LINE', `${a.name}: a line must not contain line breaks`);
  }

  async request(actuator: ActuatorSpec, line: string, options: { awaitReply: boolean; timeoutMs?: number; guard?: () => void }): Promise<string | undefined> {
    const c = this.live(actuator);
    this.allowed(actuator, line);
    const reply = await c.request(line, options.awaitReply, options.timeoutMs ?? c.settings.replyTimeoutMs, options.guard);
    this.o.recorder?.record({ actuator: actuator.name, value: line, via: `serial:${c.settings.path}` });
    return reply;
  }

  async write(target: WriteTarget, value: ActuatorValue, guard?: () => void): Promise<void> {
    const a = target.actuator;
    const c = this.live(a);
    if (a.type === 'serial_line') {
      await this.request(a, String(value), { awaitReply: false, timeoutMs: c.settings.replyTimeoutMs, ...(guard ? { guard } : {}) });
      return;
    }
    const template = a.channel['line'] as string;
    const line = formatLine(template, value);
    this.allowed(a, line);
    const expect = text(a.channel['expect']);
    const reply = await c.request(line, expect !== undefined, c.settings.replyTimeoutMs, guard);
    this.o.recorder?.record({ actuator: a.name, value, via: `serial:${c.settings.path}` });
    if (expect !== undefined && !new RegExp(expect).test(reply ?? '')) {
      throw new LlmosError('ERR_DRIVER', `${a.name}: device answered "${reply ?? ''}" to "${line}" (expected /${expect}/)`);
    }
  }

  private live(a: ActuatorSpec): SerialConnection {
    if (this.closed) throw new LlmosError('ERR_DRIVER', `serial driver "${this.name}" is closed; cannot write ${a.name}`);
    const c = this.byActuator.get(a.name);
    if (!c) throw new LlmosError('ERR_DRIVER', `serial driver "${this.name}" has no actuator ${a.name}`);
    return c;
  }

  async read(sensor: SensorSpec): Promise<SensorReading> {
    throw new LlmosError('ERR_DRIVER', `sensor ${sensor.name}: serial sensors are read with a query line (type serial_query)`);
  }

  /** Opens each port (and sends probe_line when the driver names one), moving nothing. */
  async probe(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<ProbeResult[]> {
    const rows: ProbeResult[] = [];
    const probeLine = text(this.o.options['probe_line']);
    const results = new Map<string, { ok: boolean; detail: string }>();
    for (const a of actuators) {
      let settings: PortSettings;
      try {
        settings = this.settingsFor(a);
      } catch (e) {
        rows.push({ name: a.name, kind: 'actuator', ok: false, detail: (e as Error).message });
        continue;
      }
      let r = results.get(settings.path);
      if (!r) {
        const c = new SerialConnection(settings, this.o.binding, { minMs: 250, maxMs: 250 });
        try {
          await c.openOrExplain();
          let detail = `opened ${settings.path} at ${settings.baudRate} baud`;
          if (probeLine) {
            const reply = await c.request(probeLine, true, settings.replyTimeoutMs).catch((e: Error) => `no reply (${e.message})`);
            detail += `; "${probeLine}" -> "${reply ?? ''}"`;
          }
          r = { ok: true, detail };
        } catch (e) {
          r = { ok: false, detail: `${(e as LlmosError).code ?? 'ERR_DRIVER'}: ${(e as Error).message}` };
        } finally {
          await c.close();
        }
        results.set(settings.path, r);
      }
      rows.push({ name: a.name, kind: 'actuator', ...r });
    }
    for (const s of sensors) {
      const via = rows.find((r) => r.name === s.query?.actuator);
      rows.push({ name: s.name, kind: 'sensor', ok: via?.ok ?? false, detail: via ? `read through ${via.name}${via.ok ? '' : ` (${via.name} not found)`}` : 'no query actuator on this driver' });
    }
    return rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.connections.values()].map((c) => c.close()));
  }
}
