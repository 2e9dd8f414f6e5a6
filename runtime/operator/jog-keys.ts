/**
 * Jog: which key does what to which actuator. Pure logic (no terminal, no gate), so the mapping
 * is tested on its own. Every motion is a small bounded step through the gate: a key held down
 * (the terminal repeats it) makes a series of steps, and releasing it ends motion within one
 * step, well inside the deadman window. The gate still enforces every bound.
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

/** Base step sizes at scale 1; `+` and `-` double and halve them. */
export const JOG_STEPS = { drive_m: 0.05, turn_deg: 10, servo_deg: 5, motor_ms: 200, pwm: 0.1 } as const;
export const JOG_SPEED = 0.3;

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

/** Keys as raw terminal input: arrows arrive as escape sequences. */
export function keyName(data: string): string {
  switch (data) {
    case '\x1b[A': case '\x1bOA': return 'up';
    case '\x1b[B': case '\x1bOB': return 'down';
    case '\x1b[C': case '\x1bOC': return 'right';
    case '\x1b[D': case '\x1bOD': return 'left';
    case '\x03': case '\x04': return 'quit';
    case '\t': return 'tab';
    case ' ': return 'space';
    default: return data.length === 1 ? data.toLowerCase() : data;
  }
}

const round = (v: number, digits = 4): number => Number(v.toFixed(digits));
const clamp = (v: number, [lo, hi]: readonly [number, number]): number => Math.min(hi, Math.max(lo, v));

/** `current`: the actuator's last commanded value (servo angle, pwm duty), for relative steps. */
export function jogAction(key: string, target: JogTarget | undefined, current: number | undefined, scale = 1): JogAction {
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
  switch (target.kind) {
    case 'base':
      // Up/down drive, left/right turn in place (positive degrees turn left).
      return Math.abs(dir) === 1
        ? { kind: 'call', call: { name: 'drive', args: { distance_m: round(dir * JOG_STEPS.drive_m * scale), speed: JOG_SPEED } } }
        : { kind: 'call', call: { name: 'turn', args: { degrees: round((dir < 0 ? 1 : -1) * JOG_STEPS.turn_deg * scale, 2), speed: JOG_SPEED } } };
    case 'servo': {
      const from = current ?? (typeof spec.safe_value === 'number' ? spec.safe_value : (spec.range[0] + spec.range[1]) / 2);
      const angle = round(clamp(from + Math.sign(dir) * JOG_STEPS.servo_deg * scale, spec.range), 2);
      return { kind: 'call', call: { name: 'servo_move', args: { actuator: name, angle } } };
    }
    case 'motor': {
      const speed = Math.sign(dir) * JOG_SPEED;
      if (speed < spec.range[0] || speed > spec.range[1]) return { kind: 'none' };
      return { kind: 'call', call: { name: 'motor_set', args: { actuator: name, speed, duration_ms: Math.round(JOG_STEPS.motor_ms * scale) } } };
    }
    case 'digital':
      return { kind: 'call', call: { name: 'digital_write', args: { actuator: name, value: dir > 0 } } };
    case 'pwm': {
      const duty = round(clamp((current ?? 0) + Math.sign(dir) * JOG_STEPS.pwm * scale, spec.range), 3);
      return { kind: 'call', call: { name: 'pwm_write', args: { actuator: name, duty } } };
    }
  }
}
