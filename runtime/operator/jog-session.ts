/**
 * A jog session: keys in, bounded steps through the gate out (via LLMOS.callTool, so stops,
 * e-stops and the goal queue apply as to any call). A held key repeats faster than steps finish:
 * only its newest press waits, and a press older than STALE_MS when the step ends is dropped (the
 * key was let go). Stop, e-stop and quit act at once, drop what waits and abort the step in
 * flight; after quit nothing more is started. Teach records each executed step, a held key's
 * steps as one call.
 */
import { toLlmosError } from '../../lib/errors.js';
import type { ToolCall } from '../../safety/gate.js';
import type { LLMOS } from '../llmos.js';
import { jogAction, jogTargets, JOG_SCALES, type JogTarget } from './jog-keys.js';
import type { TeachRecorder } from './teach.js';

const STALE_MS = 150;

const numberOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface JogOutput {
  /** The status changed: redraw it. */
  changed(): void;
  /** A line worth keeping above the status line. */
  say(line: string): void;
}

export class JogSession {
  readonly targets: JogTarget[];
  index = 0;
  scale = 1;
  /** Calls the gate executed (the status line shows it; tests wait for it). */
  steps = 0;
  note = '';
  private readonly os: LLMOS;
  private readonly out: JogOutput;
  private readonly recorder: TeachRecorder | undefined;
  private inflight: Promise<void> | undefined;
  private pending: { key: string; at: number } | undefined;
  private lastKey = '';
  private releaseArmed = false;
  private quitting = false;

  constructor(os: LLMOS, out: JogOutput, recorder?: TeachRecorder) {
    this.os = os;
    this.out = out;
    this.recorder = recorder;
    this.targets = jogTargets(os.profile);
  }

  get target(): JogTarget | undefined { return this.targets[this.index]; }

  private stepMs(t: JogTarget | undefined): number {
    return (t?.spec.deadman_ms ?? this.os.config.safety.deadman_ms) / 2;
  }

  /** Actuators away from their safe value (a servo holding a pose is not "moving"). */
  moving(): string[] {
    const snap = this.os.gate.actuatorSnapshot();
    const out: string[] = [];
    for (const t of this.targets) {
      const v = snap[t.name];
      if (v === null || v === undefined || t.kind === 'servo') continue;
      if (typeof v === 'object') { if (Object.values(v).some((x) => typeof x === 'number' && x !== 0)) out.push(t.name); continue; }
      const safe = t.spec.safe_value === 'hold' ? undefined : t.spec.safe_value;
      if (safe !== undefined && v !== safe && !(typeof v === 'number' && typeof safe === 'number' && Math.abs(v - safe) < 1e-9)) out.push(t.name);
    }
    return out;
  }

  handle(key: string, at = Date.now()): void {
    if (this.quitting) return;
    const t = this.target;
    const ctx = { current: t ? numberOf(this.os.gate.actuatorSnapshot()[t.name]) : undefined, scale: this.scale, stepMs: this.stepMs(t) };
    const action = jogAction(key, t, ctx);
    if (action.kind !== 'release') this.releaseArmed = false;
    switch (action.kind) {
      case 'call':
        if (this.inflight) { this.pending = { key, at }; return; }
        this.start(action.call, key === this.lastKey);
        this.lastKey = key;
        return;
      case 'stop':
        this.pending = undefined;
        void this.os.stopMotion('jog: space').then(() => this.out.say('stopped'));
        break;
      case 'estop':
        this.pending = undefined;
        void this.os.estop('operator (jog)', 'cli').then(() => this.out.say('e-stop engaged: press r twice to release it'));
        break;
      case 'release':
        if (!this.os.gate.estopStatus.engaged) { this.out.say('the e-stop is not engaged'); break; }
        // Releasing lets things move again: one stray key must not do it.
        if (!this.releaseArmed) { this.releaseArmed = true; this.out.say('press r again to release the e-stop'); break; }
        this.releaseArmed = false;
        try {
          this.out.say(this.os.releaseEstop('cli') ? 'e-stop released' : 'the e-stop is not engaged');
        } catch (e) {
          const err = toLlmosError(e);
          this.out.say(`not released: ${err.code}: ${err.message}`);
        }
        break;
      case 'select':
        if (action.index < this.targets.length) this.index = action.index;
        break;
      case 'next':
        this.index = this.targets.length ? (this.index + 1) % this.targets.length : 0;
        break;
      case 'scale':
        this.scale = Math.min(JOG_SCALES.max, Math.max(JOG_SCALES.min, this.scale * action.factor));
        break;
      case 'quit': case 'help': case 'none':
        return;
    }
    this.lastKey = '';
    this.out.changed();
  }

  private start(call: ToolCall, held: boolean): void {
    this.inflight = (async () => {
      try {
        await this.os.callTool(call, { source: 'operator' });
        this.recorder?.add({ ...call, held });
        this.steps++;
        this.note = '';
      } catch (e) {
        const err = toLlmosError(e);
        this.note = `${err.code}: ${err.message}`;
      }
    })().finally(() => {
      this.inflight = undefined;
      const next = this.pending;
      this.pending = undefined;
      this.out.changed();
      if (next && Date.now() - next.at <= STALE_MS) this.handle(next.key, next.at);
    });
  }

  /** Nothing starts after this; the step in flight is stopped and waited for. */
  async quit(): Promise<void> {
    this.quitting = true;
    this.pending = undefined;
    await this.os.stopMotion('jog: quit').catch(() => undefined);
    await this.inflight;
  }
}
