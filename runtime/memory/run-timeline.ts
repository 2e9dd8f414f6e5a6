/**
 * What happened during a run, on one time origin, for its session-log line: the steps (tool,
 * arguments, start and end, ok or error code), events (reflexes, e-stops, refusals, deadman and
 * run limits, driver errors), sentience changes and sensor readings, each at `t` ms since the run
 * started (the runtime's clock), plus the run's wall-clock start and, with --sim-log, where the run
 * starts in the sim log. `llmos export mcap --run ID` turns it (and the sim log's writes) into
 * MCAP. Goals run one at a time; whatever happens while a run is open belongs to it (and to the
 * goal's enclosing run when a part runs inside one).
 */
import type { Clock } from '../../lib/clock.js';
import type { Emitter } from '../../lib/emitter.js';
import type { SafetyGate } from '../../safety/gate.js';
import type { LlmosEvents } from '../llmos.js';
import type { StepResult } from '../result.js';
import type { Sentience, SentienceSnapshot } from '../sentience/sentience.js';

export interface TimelineStep {
  /** Start and end, ms since the run started. */
  t: number;
  t_end: number;
  index: number;
  tool: string;
  args: Record<string, unknown>;
  ok: boolean;
  skipped?: boolean;
  code?: string;
  value?: unknown;
}
export interface TimelineEvent { t: number; kind: string; [detail: string]: unknown }
export interface TimelineSentience { t: number; mode: string; values: Record<string, number>; event?: string }
export interface TimelineReading { t: number; sensor: string; value: number | boolean | string; unit?: string }

export interface RunTimelineRecord {
  steps: TimelineStep[];
  events: TimelineEvent[];
  sentience: TimelineSentience[];
  sensors: TimelineReading[];
  /** Actuator writes the gate handed to drivers during the run (the sim log holds them). */
  writes: number;
  /** Entries left out beyond the per-list cap (a very long run). */
  dropped?: number;
}

/** The fields a run adds to its session-log line. */
export interface RunTimelineFields {
  /** Unique across processes: wall-clock start, pid and a counter. */
  id: string;
  /** Wall-clock time of the run's start (the origin of every `t`). */
  started_at: string;
  /**
   * With --sim-log: the file, the sim-log times (ms) of the run's start and end, and how many
   * writes the log held before the run (its writes follow in file order).
   */
  sim_log?: { file: string; t0: number; t1: number; first: number };
  timeline?: RunTimelineRecord;
}

/** At most this many entries per list and run: a session-log line stays a few MB at worst. */
const MAX_ENTRIES = 20_000;

interface Open { id: string; startedAt: Date; t0: number; first: number; rec: RunTimelineRecord }

const r3 = (ms: number): number => Math.round(ms * 1000) / 1000;
let seq = 0;

export function runIdAt(wall: Date): string {
  return `${wall.toISOString().replace(/[-:.]/g, '')}-${process.pid}-${++seq}`;
}

export class RunTimeline {
  private readonly open = new Map<string, Open>();
  private readonly clock: Clock;
  private readonly simLog: { file: string; origin: number } | undefined;
  /** Writes since boot: the sim log's write count (its writes are the gate's, in order). */
  private writes = 0;

  constructor(o: { clock: Clock; gate: SafetyGate; events: Emitter<LlmosEvents>; sentience?: Sentience | undefined; simLog?: { file: string; origin: number } | undefined }) {
    this.clock = o.clock;
    this.simLog = o.simLog;
    o.events.on('run_started', ({ run }) => this.start(run, o.sentience?.snapshot()));
    o.events.on('step', ({ run, step }) => this.step(run, step));
    const g = o.gate.events;
    g.on('read', ({ sensor, value, unit }) => this.each((rec, t) => push(rec, rec.sensors, { t, sensor, value, ...(unit !== undefined ? { unit } : {}) })));
    g.on('write', () => { this.writes++; this.each((rec) => { rec.writes++; }); });
    g.on('reflex', (e) => this.event('reflex', { kind_of: e.kind, rule: e.rule, sensor: e.sensor, reading: e.reading, action: e.action, actuators: e.actuators, code: e.code, message: e.message }));
    g.on('estop', (e) => this.event(e.engaged ? 'estop' : 'estop_released', { reason: e.reason, source: e.source }));
    g.on('deadman', (e) => this.event('deadman', { actuator: e.actuator }));
    g.on('runLimit', (e) => this.event('run_limit', { actuator: e.actuator, max_run_ms: e.max_run_ms }));
    g.on('driverError', (e) => this.event('driver_error', { actuator: e.actuator, code: e.error.code, message: e.error.message }));
    g.on('decision', (d) => {
      // Refusals and what the gate changed; allowed calls are the steps already.
      if (d.decision === 'allow' || d.decision === 'confirmed' || d.decision === 'estop' || d.decision === 'release') return;
      const kind = d.decision === 'reject' || d.decision === 'denied' ? 'refusal' : d.decision === 'clamp' ? 'clamped' : d.decision === 'ask' ? 'confirmation' : d.decision;
      this.event(kind, { tool: d.tool, source: d.source, ...(d.code ? { code: d.code } : {}), ...(d.reason ? { reason: d.reason } : {}) });
    });
    o.sentience?.events.on('change', (s) => this.each((rec, t) => push(rec, rec.sentience, sentienceEntry(t, s))));
  }

  private start(run: string, snap: SentienceSnapshot | undefined): void {
    const startedAt = this.clock.wallNow();
    const rec: RunTimelineRecord = { steps: [], events: [], sentience: [], sensors: [], writes: 0 };
    // The state the run started in, so a viewer has a value from t=0.
    if (snap) rec.sentience.push(sentienceEntry(0, snap));
    this.open.set(run, { id: runIdAt(startedAt), startedAt, t0: this.clock.now(), first: this.writes, rec });
  }

  private step(run: string, s: StepResult): void {
    const o = this.open.get(run);
    if (!o) return;
    const end = r3(this.clock.now() - o.t0);
    push(o.rec, o.rec.steps, {
      t: r3(Math.max(0, end - s.duration_ms)), t_end: end, index: s.index, tool: s.tool, args: s.args, ok: s.ok,
      ...(s.skipped ? { skipped: true } : {}), ...(s.error ? { code: s.error.code } : {}), ...(s.value !== undefined ? { value: s.value } : {}),
    });
  }

  private each(f: (rec: RunTimelineRecord, t: number) => void): void {
    if (this.open.size === 0) return;
    const now = this.clock.now();
    for (const o of this.open.values()) f(o.rec, r3(now - o.t0));
  }

  private event(kind: string, details: Record<string, unknown>): void {
    this.each((rec, t) => push(rec, rec.events, { t, kind, ...details }));
  }

  /**
   * The run's fields for its session-log line; the run is closed. A run that never started (a
   * goal discarded before its turn) gets an id and its start only.
   */
  finish(run: string, durationMs: number): RunTimelineFields {
    const o = this.open.get(run);
    this.open.delete(run);
    const wall = o?.startedAt ?? new Date(this.clock.wallNow().getTime() - durationMs);
    const now = this.clock.now();
    const t0 = o ? o.t0 : now - durationMs;
    const sim = this.simLog;
    return {
      id: o?.id ?? runIdAt(wall),
      started_at: wall.toISOString(),
      ...(sim ? { sim_log: { file: sim.file, t0: r3(Math.max(0, t0 - sim.origin)), t1: r3(Math.max(0, now - sim.origin)), first: o?.first ?? this.writes } } : {}),
      ...(o ? { timeline: o.rec } : {}),
    };
  }
}

function push<T>(rec: RunTimelineRecord, list: T[], entry: T): void {
  if (list.length >= MAX_ENTRIES) { rec.dropped = (rec.dropped ?? 0) + 1; return; }
  list.push(entry);
}

function sentienceEntry(t: number, s: SentienceSnapshot): TimelineSentience {
  return { t, mode: s.mode, values: { ...s.values } as unknown as Record<string, number>, ...(s.last_event ? { event: s.last_event } : {}) };
}
