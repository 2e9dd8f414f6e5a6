/**
 * Jog: which key does what to which actuator. Pure logic (no terminal, no gate), so the mapping
 * is tested on its own. Every motion is a short bounded step through the gate, sized to last
 * about half the actuator's deadman window: a key held down (the terminal repeats it) makes a
 * series of steps, and letting go ends motion within one step, inside the deadman window.
 */
import type { ActuatorSpec, BoardProfile } from '../../drivers/types.js';
import type { ToolCall } from '../../safety/gate.js';

export type JogKind = 'base' | 'servo' | 'motor' | 'digital' | 'pwm';

export interface JogTarget { name: string; kind: JogKind; spec: ActuatorSpec }

export type JogAction =
  | { kind: 'call'; call: ToolCall }
  | { kind: 'stop' } | { kind: 'estop' } | { kind: 'release' } | { kind: 'quit' }
  | { kind: 'select'; index: number } | { kind: 'next' } | { kind: 'scale'; factor: number }
  | { kind: 'help' } | { kind: 'none' };

/** Speed of a step at scale 1 (fraction of the actuator's maximum); `+`/`-` double and halve it. */
export const JOG_SPEED = 0.3;
/** Servo and pwm steps at scale 1 (still capped by what the actuator's max_rate does in a step). */
export const JOG_STEPS = { servo_deg: 5, pwm: 0.1 } as const;
export const JOG_SCALES = { min: 0.25, max: 3 } as const;

const KIND: Partial<Record<ActuatorSpec['type'], JogKind>> = {
  differential_drive: 'base', servo: 'servo', motor: 'motor', digital_out: 'digital', pwm: 'pwm',
};

/** The board's jog targets, in profile order: serial devices are not jogged (use :call). */
export function jogTargets(profile: BoardProfile): JogTarget[] {
  const out: JogTarget[] = [];
  for (const spec of profile.actuators.values()) {
    const kind = KIND[spec.type];
    if (kind) out.push({ name: spec.name, kind, spec });
  }
  return out;
}

/**
 * Splits raw terminal input into keys: whole escape sequences (arrows, with or without modifiers,
 * function keys) stay one token, so a Shift+Up is never read as the letters in its sequence.
 */
export function splitKeys(text: string): string[] {
  return [...text.matchAll(/\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1bO.|\x1b[\s\S]?|[\s\S]/g)].map((m) => m[0]);
}

/** A key's name: arrows by name, Ctrl-C/D as quit, letters lower-cased; other sequences 'unknown'. */
export function keyName(key: string): string {
  switch (key) {
    case '\x1b[A': case '\x1bOA': return 'up';
    case '\x1b[B': case '\x1bOB': return 'down';
    case '\x1b[C': case '\x1bOC': return 'right';
    case '\x1b[D': case '\x1bOD': return 'left';
    case '\x03': case '\x04': return 'quit';
    case '\t': return 'tab';
    case ' ': return 'space';
    default: return key.length === 1 && key >= ' ' ? key.toLowerCase() : 'unknown';
  }
}

const round = (v: number, digits = 4): number => Number(v.toFixed(digits));
const clamp = (v: number, [lo, hi]: readonly [number, number]): number => Math.min(hi, Math.max(lo, v));

export interface JogContext {
  /** The actuator's last commanded value (servo angle, pwm duty), for relative steps. */
  current: number | undefined;
  scale: number;
  /** How long one step may take: half the actuator's deadman window. */
  stepMs: number;
}

export function jogAction(key: string, target: JogTarget | undefined, c: JogContext): JogAction {
  switch (key) {
    case 'quit': case 'q': return { kind: 'quit' };
    case 'space': return { kind: 'stop' };
    case 'x': case '!': return { kind: 'estop' };
    case 'r': return { kind: 'release' };
    case 'tab': return { kind: 'next' };
    case '+': case '=': return { kind: 'scale', factor: 2 };
    case '-': case '_': return { kind: 'scale', factor: 0.5 };
    case '?': case 'h': return { kind: 'help' };
    default: break;
  }
  if (/^[1-9]$/.test(key)) return { kind: 'select', index: Number(key) - 1 };
  const dir = key === 'up' || key === 'w' ? 1 : key === 'down' || key === 's' ? -1 : key === 'right' || key === 'd' ? 2 : key === 'left' || key === 'a' ? -2 : 0;
  if (dir === 0 || !target) return { kind: 'none' };
  const { name, spec } = target;
  const speed = round(Math.min(1, JOG_SPEED * c.scale), 3);
  const seconds = c.stepMs / 1000;
  switch (target.kind) {
    case 'base': {
      // Up/down drive, left/right turn in place (positive degrees turn left); one step's worth.
      const cal = spec.calibration ?? { max_speed_mps: 0.5, max_turn_dps: 90 };
      return Math.abs(dir) === 1
        ? { kind: 'call', call: { name: 'drive', args: { distance_m: round(dir * speed * cal.max_speed_mps * seconds, 3), speed } } }
        : { kind: 'call', call: { name: 'turn', args: { degrees: round((dir < 0 ? 1 : -1) * speed * cal.max_turn_dps * seconds, 1), speed } } };
    }
    case 'servo': {
      const from = c.current ?? (typeof spec.safe_value === 'number' ? spec.safe_value : (spec.range[0] + spec.range[1]) / 2);
      const step = Math.min(JOG_STEPS.servo_deg * c.scale, spec.max_rate !== undefined ? spec.max_rate * seconds : Infinity);
      return { kind: 'call', call: { name: 'servo_move', args: { actuator: name, angle: round(clamp(from + Math.sign(dir) * step, spec.range), 2) } } };
    }
    case 'motor': {
      const v = Math.sign(dir) * speed;
      if (v < spec.range[0] || v > spec.range[1]) return { kind: 'none' };
      return { kind: 'call', call: { name: 'motor_set', args: { actuator: name, speed: v, duration_ms: Math.round(c.stepMs) } } };
    }
    case 'digital':
      return { kind: 'call', call: { name: 'digital_write', args: { actuator: name, value: dir > 0 } } };
    case 'pwm':
      return { kind: 'call', call: { name: 'pwm_write', args: { actuator: name, duty: round(clamp((c.current ?? 0) + Math.sign(dir) * JOG_STEPS.pwm * c.scale, spec.range), 3) } } };
  }
}
