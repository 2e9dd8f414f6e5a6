/**
 * The hardware boundary. A board profile (boards/*.yaml) declares actuators and sensors; each
 * names a driver instance that implements `Driver`. Only safety/ calls a driver: the safety gate
 * is the one path from a tool call to a pin.
 *
 * Example (what the gate does, never the runtime):
 *   const d = drivers.get(spec.driver);
 *   await d.write({ actuator: 'arm', spec }, 90);
 */

export type ActuatorType = 'differential_drive' | 'servo' | 'motor' | 'digital_out' | 'pwm' | 'serial_line';
export type SensorType = 'analog' | 'digital' | 'serial_query';
export type ActuatorValue = number | boolean | string;
export type SafeValue = number | boolean | 'hold';

/** Driver-specific addressing; which keys matter depends on the driver type. */
export interface ChannelSpec {
  pin?: number | string;
  /** H-bridge direction pins or a second PWM pin, for motors. */
  dir_pin?: number | string;
  cdir_pin?: number | string;
  /** Invert the sign of motor commands (a motor mounted mirrored). */
  invert?: boolean;
  /** Servo pulse range in microseconds (johnny-five). */
  pwm_range?: [number, number];
  [key: string]: unknown;
}

export interface ActuatorSpec {
  name: string;
  type: ActuatorType;
  driver: string;
  description?: string;
  /** Channel addressing for single-channel actuators. */
  channel: ChannelSpec;
  /** For differential_drive: the two motor channels. */
  left?: ChannelSpec;
  right?: ChannelSpec;
  /** Inclusive numeric range of a command (per channel for a drive base). */
  range: [number, number];
  /** What to do with an out-of-range value: reject (default) or clamp. */
  on_range: 'reject' | 'clamp';
  /** Maximum rate of change in units per second; undefined = unlimited. */
  max_rate?: number;
  /** What to do with a change faster than max_rate: ramp (default) or reject. */
  on_rate: 'ramp' | 'reject';
  /** Maximum continuous time away from the safe value, in ms. */
  max_run_ms?: number;
  /** Deadman window for motion (ms); falls back to the global safety.deadman_ms. */
  deadman_ms?: number;
  /** Maximum commands per second accepted for this actuator. */
  max_commands_per_s?: number;
  safe_value: SafeValue;
  /** IEC 60204-1 stop category: 0 = cut at once, 1 = controlled ramp to stop, then cut. */
  stop_category: 0 | 1;
  /** Differential drive calibration: speeds reached at command 1.0. */
  calibration?: { max_speed_mps: number; max_turn_dps: number; track_width_m?: number };
  /** Serial line devices. */
  port?: string;
  baud_rate?: number;
  delimiter?: string;
  allow?: string[];
  reply_timeout_ms?: number;
}

export interface SensorSpec {
  name: string;
  type: SensorType;
  driver: string;
  description?: string;
  channel: ChannelSpec;
  unit?: string;
  range?: [number, number];
  /** A sensor the runtime understands: battery charge feeds the sentience energy variable. */
  role?: 'battery' | 'distance' | 'estop_button';
  /** For serial_query sensors: the line to send and the actuator (serial_line) to send it on. */
  query?: { actuator: string; line: string; pattern?: string };
}

export interface DriverInstanceSpec {
  name: string;
  type: 'sim' | 'gpio' | 'serial' | 'johnny-five';
  options: Record<string, unknown>;
}

export interface InterlockSpec {
  id: string;
  when: { actuator: string; above?: number; below?: number; equals?: ActuatorValue; active?: boolean };
  forbid: string[];
  reason: string;
}

/**
 * A reflex: a rule on a sensor that the safety gate checks before motion starts and samples
 * while it runs (safety/reflex-engine.ts). Exactly one of below / above / level is set.
 */
export interface ReflexSpec {
  id: string;
  sensor: string;
  below?: number;
  above?: number;
  /** A digital reading (true = active). */
  level?: boolean;
  /** forbid: refuse / stop motion in `direction`; stop: any motion; estop: engage the latched e-stop. */
  action: 'forbid' | 'stop' | 'estop';
  /** The actuators the rule guards (default: every motion actuator). */
  actuators: string[];
  /** Which motion makes it worse: forward = positive command (a drive base: its forward component). */
  direction: 'forward' | 'backward' | 'any';
  /** Sample period while guarded motion runs. */
  period_ms: number;
  /** A read that takes longer counts as a sensor that stopped answering. */
  timeout_ms: number;
  reason: string;
}

export interface BoardProfile {
  name: string;
  description?: string;
  /** Absolute path of the file it came from, or 'builtin:sim'. */
  source: string;
  drivers: Map<string, DriverInstanceSpec>;
  actuators: Map<string, ActuatorSpec>;
  sensors: Map<string, SensorSpec>;
  interlocks: InterlockSpec[];
  /** Sensor rules (absent = none). */
  reflexes?: ReflexSpec[];
  estop?: { driver: string; pin: number | string; active_low?: boolean; debounce_ms?: number };
}

/** Where a write goes: the actuator and, for a drive base, which side. */
export interface WriteTarget {
  actuator: ActuatorSpec;
  /** 'left' | 'right' for a differential drive; undefined otherwise. */
  channel?: 'left' | 'right';
}

export interface SensorReading {
  value: number | boolean | string;
  unit?: string;
}

export interface DriverCapabilities {
  actuatorTypes: readonly ActuatorType[];
  sensorTypes: readonly SensorType[];
  /** True when writes reach simulated hardware only. */
  simulated: boolean;
}

export interface ProbeResult {
  name: string;
  kind: 'actuator' | 'sensor';
  ok: boolean;
  detail: string;
}

/**
 * How the independent safety watchdog (a separate process) can bring this driver's outputs to
 * safe values by itself when the runtime stalls or dies: a description of hardware access that
 * works from another process, or nothing when the hardware cannot be shared.
 */
export type FailsafeTarget =
  | { kind: 'sim-log'; file: string; originEpochMs: number }
  | { kind: 'sysfs-gpio'; root: string; lines: Array<{ actuator: string; channel?: 'left' | 'right'; gpio: number; safeLevel: 0 | 1 }>; pwms?: string[] };

/**
 * One small interface for every kind of hardware. Everything async returns a promise;
 * `close()` is safe to call twice.
 */
export interface Driver {
  readonly name: string;
  readonly type: DriverInstanceSpec['type'];
  readonly capabilities: DriverCapabilities;
  /** Claims the hardware for the given actuators and sensors. */
  open(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<void>;
  /**
   * `guard`, when given, is called right before the bytes go out and throws if the write may no
   * longer happen (an e-stop latched while a slow driver was still waiting its turn).
   */
  write(target: WriteTarget, value: ActuatorValue, guard?: () => void): Promise<void>;
  read(sensor: SensorSpec): Promise<SensorReading>;
  /** Line-oriented request/reply for serial_line actuators; resolves with the reply, if awaited. */
  request?(actuator: ActuatorSpec, line: string, options: { awaitReply: boolean; timeoutMs?: number; guard?: () => void }): Promise<string | undefined>;
  /** Checks each declared device without moving anything. */
  probe?(actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): Promise<ProbeResult[]>;
  /**
   * Registers a callback for a digital input (e-stop button, bumpers): `active` on press at once,
   * the release debounced. `onLost` hears when the input can no longer be watched (board lost,
   * interrupt error): an e-stop that cannot be heard must not go unnoticed. Returns an unsubscribe.
   */
  watch?(spec: { pin: number | string; active_low?: boolean; debounce_ms?: number }, onChange: (active: boolean) => void, onLost?: (reason: string) => void): Promise<() => void>;
  /** Access the safety watchdog process can use on its own (see FailsafeTarget). */
  failsafeTarget?(): FailsafeTarget | undefined;
  /** Stops the pulses of a servo output (category-0 stop: limp, never a jump to an angle). */
  release?(target: WriteTarget): Promise<void>;
  close(): Promise<void>;
}
