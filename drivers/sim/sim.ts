/**
 * The simulated twin of every driver type. It records each physical write as one JSON line
 * `{"t": <ms since start>, "actuator": "<name>", "value": ..., "channel"?: "left"|"right"}`
 * (in memory and, with --sim-log FILE, in the file), keeps a small world model so sensors
 * answer plausibly (a rover in a room, a draining battery), and answers serial lines like a
 * small controller.
 */
import type { Clock } from '../../lib/clock.js';
import { LlmosError } from '../../lib/errors.js';
import { WriteRecorder, type RecordedEvent, type RecordedWrite } from '../recorder.js';
import { SimWorld, type SimWorldSpec } from './sim-world.js';
import type {
  ActuatorSpec, ActuatorValue, Driver, DriverCapabilities, FailsafeTarget, ProbeResult, SensorReading, SensorSpec, WriteTarget,
} from '../types.js';

export type SimWrite = RecordedWrite;

export interface SimFaults {
  /** Return an error to make a write fail (after nothing was written). */
  onWrite?: (target: WriteTarget, value: ActuatorValue) => Error | undefined;
  /** Return true to make a write never complete (a blocked driver call). */
  blockWrite?: (target: WriteTarget, value: ActuatorValue) => boolean;
  /** Return true to make a sensor read never answer (a sensor that went quiet). */
  blockRead?: (sensor: SensorSpec) => boolean;
}

export interface SimDriverOptions {
  name?: string;
  clock: Clock;
  /** Append-only JSON-lines log of every write. Truncated when the driver opens. */
  logFile?: string;
  /** A recorder shared with the board's other twins (takes the place of logFile). */
  recorder?: WriteRecorder;
  faults?: SimFaults;
  /** Room, obstacles, start pose and battery charge (drivers/sim/sim-world.ts). */
  world?: SimWorldSpec;
}

/** Replies of the simulated serial controller on the `uart` line. */
export function controllerReply(line: string, state: Map<string, ActuatorValue>): string {
  const cmd = line.trim().toUpperCase();
  if (cmd === 'PING') return 'PONG';
  if (cmd === 'STATUS') return 'OK READY';
  if (cmd === 'VERSION') return 'SIMCTL 1.0';
  const led = /^LED (ON|OFF)$/.exec(cmd);
  if (led) { state.set('uart.led', led[1] === 'ON'); return 'OK'; }
  const grip = /^GRIP (\d{1,3})$/.exec(cmd);
  if (grip) return Number(grip[1]) <= 100 ? 'OK' : 'ERR RANGE';
  return 'ERR UNKNOWN';
}

export class SimDriver implements Driver {
  readonly name: string;
  readonly type = 'sim' as const;
  readonly capabilities: DriverCapabilities = {
    actuatorTypes: ['differential_drive', 'servo', 'motor', 'digital_out', 'pwm', 'serial_line'],
    sensorTypes: ['analog', 'digital', 'serial_query'],
    simulated: true,
  };

  private readonly clock: Clock;
  private readonly logFile: string | undefined;
  private recorder: WriteRecorder | undefined;
  private readonly ownsRecorder: boolean;
  private readonly faults: SimFaults | undefined;
  private readonly values = new Map<string, ActuatorValue>();
  private readonly listeners = new Set<(w: SimWrite) => void>();
  private opened = false;
  private closed = false;

  // World model: a rover in a room (by default 5 x 5 m, starting at its centre facing +x).
  readonly world: SimWorld;
  private wheel = { left: 0, right: 0 };
  private lastIntegrate = 0;
  private battery: number;
  private calibration: { max_speed_mps: number; max_turn_dps: number; track_width_m?: number } = { max_speed_mps: 0.5, max_turn_dps: 120 };

  constructor(options: SimDriverOptions) {
    this.name = options.name ?? 'sim';
    this.clock = options.clock;
    this.logFile = options.logFile;
    this.recorder = options.recorder;
    this.ownsRecorder = !options.recorder;
    this.faults = options.faults;
    this.world = new SimWorld(options.world);
    this.battery = options.world?.battery ?? 0.95;
  }

  async open(actuators: readonly ActuatorSpec[], _sensors: readonly SensorSpec[]): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    this.lastIntegrate = this.clock.now();
    this.recorder ??= new WriteRecorder(this.clock, this.logFile);
    for (const a of actuators) {
      if (a.type === 'differential_drive' && a.calibration) this.calibration = a.calibration;
    }
  }

  /** Every write since open, in order. Tests assert on this. */
  get writes(): SimWrite[] {
    return this.recorder?.writes ?? [];
  }

  /** Collisions of the rover with a wall or an obstacle since open (`{"event": "collision"}` log lines). */
  get collisions(): RecordedEvent[] {
    return (this.recorder?.events ?? []).filter((e) => e.event === 'collision');
  }

  /** Subscribe to writes as they happen (benchmarks, live views). */
  onWrite(listener: (w: SimWrite) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Last value written to an actuator (or `actuator.left` / `actuator.right`). */
  valueOf(key: string): ActuatorValue | undefined {
    return this.values.get(key);
  }

  async write(target: WriteTarget, value: ActuatorValue): Promise<void> {
    if (this.closed) throw new LlmosError('ERR_DRIVER', `sim driver "${this.name}" is closed; cannot write ${target.actuator.name}`);
    const fault = this.faults?.onWrite?.(target, value);
    if (fault) throw fault;
    if (this.faults?.blockWrite?.(target, value)) return new Promise<void>(() => undefined);
    const key = target.channel ? `${target.actuator.name}.${target.channel}` : target.actuator.name;
    if (target.actuator.type === 'differential_drive' && target.channel && typeof value === 'number') {
      this.integrate();
      this.wheel[target.channel] = value;
    }
    this.values.set(key, value);
    this.record({ actuator: target.actuator.name, value, ...(target.channel ? { channel: target.channel } : {}) });
  }

  async release(target: WriteTarget): Promise<void> {
    if (this.closed) throw new LlmosError('ERR_DRIVER', `sim driver "${this.name}" is closed; cannot release ${target.actuator.name}`);
    this.values.set(target.actuator.name, 'released');
    this.record({ actuator: target.actuator.name, value: 'released' });
  }

  async request(actuator: ActuatorSpec, line: string, options: { awaitReply: boolean; timeoutMs?: number }): Promise<string | undefined> {
    await this.write({ actuator }, line);
    if (!options.awaitReply) return undefined;
    return controllerReply(line, this.values);
  }

  async read(sensor: SensorSpec): Promise<SensorReading> {
    if (this.closed) throw new LlmosError('ERR_DRIVER', `sim driver "${this.name}" is closed; cannot read ${sensor.name}`);
    if (this.faults?.blockRead?.(sensor)) return new Promise<SensorReading>(() => undefined);
    this.integrate();
    const unit = sensor.unit;
    if (sensor.role === 'battery' || sensor.name === 'battery') {
      return { value: round(this.battery, 3), ...(unit ? { unit } : {}) };
    }
    if (sensor.role === 'distance' || sensor.name === 'distance') {
      const d = this.world.distanceAhead();
      const [lo, hi] = sensor.range ?? [0.02, 4];
      return { value: round(Math.min(hi, Math.max(lo, d)), 3), ...(unit ? { unit } : {}) };
    }
    if (sensor.type === 'digital') return { value: false };
    const [lo, hi] = sensor.range ?? [0, 1];
    return { value: round((lo + hi) / 2, 3), ...(unit ? { unit } : {}) };
  }

  private readonly inputs = new Map<string, { activeLow: boolean; level: boolean; listeners: Set<(active: boolean) => void> }>();

  /** Simulated digital inputs: press() and release() drive them like a button would. */
  async watch(spec: { pin: number | string; active_low?: boolean }, onChange: (active: boolean) => void): Promise<() => void> {
    const key = String(spec.pin);
    let input = this.inputs.get(key);
    if (!input) {
      input = { activeLow: spec.active_low === true, level: spec.active_low === true, listeners: new Set() };
      this.inputs.set(key, input);
    }
    const entry = input;
    entry.listeners.add(onChange);
    return () => entry.listeners.delete(onChange);
  }

  /** Sets a simulated input's electrical level (true = high); watchers hear the active state. */
  setInput(pin: number | string, high: boolean): void {
    const input = this.inputs.get(String(pin));
    if (!input || input.level === high) return;
    input.level = high;
    const active = input.activeLow ? !high : high;
    for (const l of input.listeners) l(active);
  }

  failsafeTarget(): FailsafeTarget | undefined {
    return this.recorder?.failsafeTarget();
  }

  async probe(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<ProbeResult[]> {
    return [
      ...actuators.map((a) => ({ name: a.name, kind: 'actuator' as const, ok: true, detail: `simulated ${a.type}` })),
      ...sensors.map((s) => ({ name: s.name, kind: 'sensor' as const, ok: true, detail: `simulated ${s.type}` })),
    ];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsRecorder) this.recorder?.close();
  }

  private record(entry: Omit<SimWrite, 't'>): void {
    if (!this.recorder) throw new LlmosError('ERR_DRIVER', `sim driver "${this.name}" is not open`);
    const w = this.recorder.record(entry);
    for (const l of this.listeners) l(w);
  }

  /** Advances the rover pose and battery from the last update to now. */
  private integrate(): void {
    const now = this.clock.now();
    const dt = (now - this.lastIntegrate) / 1000;
    this.lastIntegrate = now;
    if (dt <= 0) return;
    const { left, right } = this.wheel;
    const v = ((left + right) / 2) * this.calibration.max_speed_mps;
    const omegaDeg = ((right - left) / 2) * this.calibration.max_turn_dps;
    const hit = this.world.advance(v, (omegaDeg * Math.PI) / 180, dt);
    // The rover stops at the wall; the log says where and how fast it hit.
    if (hit) this.recorder?.recordEvent('collision', { pose: hit.pose, speed_mps: hit.speed_mps, hit: hit.with });
    const effort = (Math.abs(left) + Math.abs(right)) / 2;
    this.battery = Math.max(0, this.battery - dt * (0.00002 + 0.0004 * effort));
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
