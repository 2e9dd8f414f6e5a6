/**
 * Jog: which key does what to which actuator. Pure logic (no terminal, no gate), so the mapping
 * is tested on its own. Every motion is a short bounded step through the gate, sized to last
 * about half the actuator's deadman window: a key held down (the terminal repeats it) makes a
 * series of steps, and letting go ends motion within one step, inside the deadman window. The
 * step itself is the tool's (`jog` in safety/tools/<tool>.ts): an actuator is jogged by the tools
 * the table says act on its type.
 */
import type { ActuatorSpec, BoardProfile } from '../../drivers/types.js';
import type { ToolCall } from '../../safety/gate.js';
import { toolsActingOn, type Tool } from '../../safety/tools/index.js';

export type JogKind = 'base' | 'servo' | 'motor' | 'digital' | 'pwm';

export interface JogTarget { name: string; kind: JogKind; spec: ActuatorSpec }

export type JogAction =
  | { kind: 'call'; call: ToolCall }
  | { kind: 'stop' } | { kind: 'estop' } | { kind: 'release' } | { kind: 'quit' }
  | { kind: 'select'; index: number } | { kind: 'next' } | { kind: 'scale'; factor: number }
  | { kind: 'help' } | { kind: 'none' };

/** Speed of a step at scale 1 (fraction of the actuator's maximum); `+`/`-` double and halve it. */
export const JOG_SPEED = 0.3;
export const JOG_SCALES = { min: 0.25, max: 3 } as const;

/** How the status line names a target. */
const KIND: Partial<Record<ActuatorSpec['type'], JogKind>> = {
  differential_drive: 'base', servo: 'servo', motor: 'motor', digital_out: 'digital', pwm: 'pwm',
};

/** The tools that take jog steps on this actuator type, in table order. */
function jogTools(type: ActuatorSpec['type']): Tool[] {
  return toolsActingOn(type).filter((t) => t.jog !== undefined);
}

/** The board's jog targets, in profile order: serial devices are not jogged (use :call). */
export function jogTargets(profile: BoardProfile): JogTarget[] {
  const out: JogTarget[] = [];
  for (const spec of profile.actuators.values()) {
    const kind = KIND[spec.type];
    if (kind && jogTools(spec.type).length > 0) out.push({ name: spec.name, kind, spec });
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
  const step = { dir: dir as 1 | -1 | 2 | -2, current: c.current, scale: c.scale, stepMs: c.stepMs, speed: Number(Math.min(1, JOG_SPEED * c.scale).toFixed(3)) };
  for (const tool of jogTools(target.spec.type)) {
    const args = tool.jog?.(target.spec, step);
    if (args) return { kind: 'call', call: { name: tool.name, args } };
  }
  return { kind: 'none' };
}
