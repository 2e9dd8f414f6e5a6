/**
 * A small structured logger on stderr (JSON lines with --log-json, text otherwise). It costs
 * nothing at start-up; `--serve` may swap in pino through the same interface.
 */
import { createRequire } from 'node:module';
import { redactCredentials } from '../lib/redact.js';
import type { LogLevel } from './config.js';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };

/** The part of pino used here; pino is loaded only when JSON logs are asked for. */
interface PinoLike {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
interface PinoFactory {
  (options: object, destination: unknown): PinoLike;
  destination(options: { fd: number; sync: boolean }): unknown;
  stdTimeFunctions: { isoTime: () => string };
}

/** Structured JSON lines through pino on stderr (the journal on a board). */
export function pinoLogger(level: LogLevel): Logger {
  const pino = createRequire(import.meta.url)('pino') as PinoFactory;
  // Synchronous writes: the line about a crash is on disk before the process dies.
  const p = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
  return {
    debug: (m, f) => p.debug(f ?? {}, redactCredentials(m)),
    info: (m, f) => p.info(f ?? {}, redactCredentials(m)),
    warn: (m, f) => p.warn(f ?? {}, redactCredentials(m)),
    error: (m, f) => p.error(f ?? {}, redactCredentials(m)),
  };
}

export function createLogger(level: LogLevel, options: { json?: boolean; write?: (line: string) => void } = {}): Logger {
  if (options.json && !options.write) return pinoLogger(level);
  const min = ORDER[level];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    // A broker URL with user:password must never reach the journal.
    msg = redactCredentials(msg);
    if (options.json) {
      write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...fields })}\n`);
    } else {
      const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      write(`llmos ${lvl}: ${msg}${extra}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
