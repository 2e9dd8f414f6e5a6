/**
 * Sensor readings for the network: the latest value of every sensor any run has read (kept for
 * the retained state), and, when `mqtt.telemetry.interval_ms` is set, a periodic reading of the
 * chosen sensors published on telemetry/<sensor>. Reads pass the gate like any other (audited,
 * refused for an unknown sensor); a sensor that fails to read is reported once per failure streak.
 */
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import type { LLMOS } from '../llmos.js';

export interface Reading { value: number | boolean | string; unit?: string; at: string }

export class SensorTelemetry {
  private readonly latest = new Map<string, Reading>();
  private readonly os: LLMOS;
  private readonly publish: (sensor: string, reading: Reading) => void;
  private readonly changed: () => void;
  private readonly warn: (message: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private offHook: (() => void) | undefined;
  private readonly failing = new Set<string>();
  private sampling = false;

  /** `changed`: a new reading arrived (the state is republished, throttled by the bridge). */
  constructor(os: LLMOS, out: { publish: (sensor: string, reading: Reading) => void; changed: () => void; warn: (message: string) => void }) {
    this.os = os;
    this.publish = out.publish;
    this.changed = out.changed;
    this.warn = out.warn;
  }

  /** The sensors telemetry reads; an unknown name is a configuration error naming it. */
  private sensors(): string[] {
    const cfg = this.os.config.mqtt.telemetry ?? { interval_ms: 0 };
    const all = [...this.os.profile.sensors.keys()];
    for (const s of cfg.sensors ?? []) {
      if (!all.includes(s)) throw new LlmosError('ERR_CONFIG_INVALID', `/mqtt/telemetry/sensors: "${s}" is not a sensor of this board (${all.join(', ') || 'none'})`);
    }
    return cfg.sensors ?? all;
  }

  start(): void {
    const names = this.sensors();
    this.offHook = this.os.gate.addHook('post_tool_use', (input) => {
      if (input.tool === 'sensor_read' && input.result && typeof input.result === 'object') {
        const r = input.result as { sensor?: unknown; value?: unknown; unit?: unknown };
        if (typeof r.sensor === 'string' && (typeof r.value === 'number' || typeof r.value === 'boolean' || typeof r.value === 'string')) {
          this.latest.set(r.sensor, { value: r.value, ...(typeof r.unit === 'string' ? { unit: r.unit } : {}), at: new Date().toISOString() });
          this.changed();
        }
      }
      return undefined;
    });
    const every = this.os.config.mqtt.telemetry?.interval_ms ?? 0;
    if (every > 0 && names.length > 0) {
      this.timer = setInterval(() => { void this.sample(names); }, every);
      this.timer.unref();
    }
  }

  private async sample(names: readonly string[]): Promise<void> {
    if (this.sampling) return; // a slow sensor never piles reads up
    this.sampling = true;
    try {
      for (const sensor of names) {
        try {
          await this.os.gate.call({ name: 'sensor_read', args: { sensor } }, { source: 'api', runId: 'telemetry', quiet: true });
          this.failing.delete(sensor);
          const r = this.latest.get(sensor);
          if (r) this.publish(sensor, r);
        } catch (e) {
          if (!this.failing.has(sensor)) this.warn(`telemetry: ${sensor} could not be read: ${toLlmosError(e).message}`);
          this.failing.add(sensor);
        }
      }
    } finally {
      this.sampling = false;
    }
  }

  snapshot(): Record<string, Reading> {
    return Object.fromEntries(this.latest);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.offHook?.();
    this.offHook = undefined;
  }
}
