/**
 * The one reader of a driver's options (the board profile's `drivers.<name>` entry, beyond
 * `type`). The schema has checked the shape; a value of the wrong type reads as absent, so the
 * driver's default applies. Own properties only: the keys come from a file.
 */
import type { DriverInstanceSpec } from './types.js';

export interface DriverOptions {
  string(key: string): string | undefined;
  number(key: string): number | undefined;
  /** The raw value (an object such as johnny-five's mock_analog, or a value to report). */
  raw(key: string): unknown;
}

export function driverOptions(options: DriverInstanceSpec['options']): DriverOptions {
  const raw = (key: string): unknown => (Object.hasOwn(options, key) ? options[key] : undefined);
  return {
    string: (key) => { const v = raw(key); return typeof v === 'string' ? v : undefined; },
    number: (key) => { const v = raw(key); return typeof v === 'number' ? v : undefined; },
    raw,
  };
}
