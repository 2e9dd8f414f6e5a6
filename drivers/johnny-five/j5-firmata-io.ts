/**
 * A johnny-five IO built from firmata-io (Firmata without a transport of its own) over the
 * project's serialport 13. This replaces johnny-five's default path (the `firmata` package on
 * serialport 8, whose native binding downloads a prebuilt binary at install time).
 */
import { existsSync } from 'node:fs';
import type { Firmata } from 'firmata-io';
import { LlmosError } from '../../lib/errors.js';

/** The serialport 13 class the transport is built from; tests pass SerialPortMock. */
export type SerialPortClass = new (options: { path: string; baudRate: number; autoOpen: false }) => {
  open(cb: (err: Error | null) => void): void;
};

/** IO-plugin surface shared by firmata-io and the mock twin. */
export interface FirmataLike {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  removeAllListeners(): unknown;
  pins: Array<{ supportedModes: number[]; analogChannel: number }>;
  MODES: Record<string, number>;
  isReady: boolean;
  pinMode(pin: number, mode: number): unknown;
  /** On an INPUT pin, 1 turns the pull-up on (StandardFirmata before 2.5 has no PULLUP mode). */
  digitalWrite(pin: number, value: number): unknown;
  /** Firmata digital reporting: the callback gets the pin's level on every change. */
  digitalRead(pin: number, callback: (value: number) => void): unknown;
}

export interface FirmataOverSerialportOptions {
  path: string;
  baudRate: number;
  timeoutMs: number;
  /** How error messages name the board, e.g. `johnny-five board "arm" on /dev/ttyACM0`. */
  where: string;
  SerialPort?: SerialPortClass;
}

/** Builds the IO; `start()` opens the port, once johnny-five listens for 'connect'. */
export async function firmataOverSerialport(o: FirmataOverSerialportOptions): Promise<{ io: FirmataLike; start: () => Promise<void> }> {
  // Checked first: a clear "not found" beats a native open error, and needs no udev (SerialPort.list spawns udevadm).
  if (!o.SerialPort && !existsSync(o.path)) {
    throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `${o.where}: serial port not found (no ${o.path}; is the board plugged in and the port right?)`);
  }
  const SerialPortCtor = o.SerialPort ?? (await import('serialport')).SerialPort as unknown as SerialPortClass;
  const { Firmata: FirmataCtor } = (await import('firmata-io')).default;
  const transport = new SerialPortCtor({ path: o.path, baudRate: o.baudRate, autoOpen: false });
  // Firmata must see the transport's 'open' to emit 'connect', so it is built before the port opens.
  const io = new FirmataCtor(transport, { reportVersionTimeout: Math.min(5000, o.timeoutMs) });
  io.on('error', () => undefined); // until the driver listens: an unlistened 'error' would throw
  const start = (): Promise<void> => new Promise<void>((resolve, reject) => transport.open((err) => {
    if (!err) { resolve(); return; }
    const hint = /permission denied/i.test(err.message) ? ' (add the user to the dialout group, then log in again)' : '';
    reject(new LlmosError('ERR_DRIVER_UNAVAILABLE', `${o.where}: cannot open ${o.path}: ${err.message}${hint}`, undefined, { cause: err }));
  }));
  return { io: io as unknown as FirmataLike, start };
}

/** Stops firmata-io's timer, closes the port and drops every listener. */
export async function closeFirmata(ioLike: FirmataLike): Promise<void> {
  const io = ioLike as unknown as Firmata;
  clearTimeout(io.reportVersionTimeoutId);
  const transport = io.transport;
  if (transport.isOpen) await new Promise<void>((resolve) => transport.close(() => resolve()));
  io.removeAllListeners();
  transport.removeAllListeners();
}
