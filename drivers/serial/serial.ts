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
import { LlmosError } from '../../lib/errors.js';
import { driverOptions, type DriverOptions } from '../options.js';
import type { WriteRecorder } from '../recorder.js';
import type {
  ActuatorSpec, ActuatorValue, Driver, DriverCapabilities, DriverInstanceSpec, ProbeResult, SensorReading, SensorSpec, WriteTarget,
} from '../types.js';
import { SerialConnection, type PortSettings, type SerialBinding } from './connection.js';

export type { SerialBinding, SerialBindingPort, SerialConnection } from './connection.js';

export interface SerialDriverOptions {
  name: string;
  options: DriverInstanceSpec['options'];
  recorder?: WriteRecorder;
  /** A binding in place of the native one (the simulated twin, tests). */
  binding?: SerialBinding;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Fills a channel's line template with a value: `GRIP {value}`. */
export function formatLine(template: string, value: ActuatorValue): string {
  const v = typeof value === 'boolean' ? (value ? '1' : '0') : typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : value;
  return template.replace(/\{value\}/g, v);
}

export class SerialDriver implements Driver {
  private readonly opt: DriverOptions;
  readonly name: string;
  readonly type = 'serial' as const;
  readonly capabilities: DriverCapabilities;
  private readonly connections = new Map<string, SerialConnection>();
  private readonly byActuator = new Map<string, SerialConnection>();
  private closed = false;

  private readonly o: SerialDriverOptions;

  constructor(o: SerialDriverOptions) {
    this.o = o;
    this.opt = driverOptions(o.options);
    this.name = o.name;
    this.capabilities = {
      actuatorTypes: ['serial_line', 'servo', 'motor', 'digital_out', 'pwm'],
      sensorTypes: ['serial_query'],
      simulated: o.recorder !== undefined,
    };
  }

  private settingsFor(a: ActuatorSpec): PortSettings {
    const path = a.port ?? this.opt.string('port');
    if (!path) throw new LlmosError('ERR_BOARD_PROFILE', `actuator ${a.name}: no serial port (set port on the actuator or the ${this.name} driver)`);
    return {
      path,
      baudRate: a.baud_rate ?? this.opt.number('baud_rate') ?? 115200,
      delimiter: a.delimiter ?? this.opt.string('delimiter') ?? '\n',
      replyTimeoutMs: a.reply_timeout_ms ?? this.opt.number('reply_timeout_ms') ?? 1000,
    };
  }

  private connectionFor(a: ActuatorSpec): SerialConnection {
    const s = this.settingsFor(a);
    let c = this.connections.get(s.path);
    if (c && (c.settings.baudRate !== s.baudRate || c.settings.delimiter !== s.delimiter)) {
      throw new LlmosError('ERR_BOARD_PROFILE', `actuator ${a.name}: port ${s.path} is shared with another actuator at ${c.settings.baudRate} baud and delimiter ${JSON.stringify(c.settings.delimiter)}, but it asks for ${s.baudRate} and ${JSON.stringify(s.delimiter)}`);
    }
    if (!c) {
      c = new SerialConnection(s, this.o.binding, { minMs: this.opt.number('reconnect_ms') ?? 250, maxMs: this.opt.number('max_reconnect_ms') ?? 5000 });
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
    const probeLine = this.opt.string('probe_line');
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
