/**
 * One physical serial port as a line-oriented request/reply channel: one request at a time (a
 * reply always belongs to the line before it), a reply timeout, late replies drained, and an
 * unplugged device reopened with backoff. The driver (serial.ts) maps actuators onto these.
 */
import { createRequire } from 'node:module';
import type { SerialPortStream } from '@serialport/stream';
import { LlmosError } from '../../lib/errors.js';

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

export interface PortSettings {
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
