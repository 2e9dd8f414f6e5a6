/** Synthetic but realistic trace sets for benchmarks: distinct robot goals with real tool calls. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyYaml } from '../../lib/yaml-file.js';
import { goalSignature } from '../../runtime/matcher/analyze.js';
import type { TraceRecord } from '../../runtime/traces/types.js';

const VERBS = ['drive', 'move', 'roll', 'go', 'turn', 'rotate', 'raise', 'lower', 'open', 'close', 'blink', 'flash', 'beep', 'check', 'read', 'wave', 'scan', 'park', 'inspect', 'patrol'];
const OBJECTS = ['arm', 'gripper', 'led', 'buzzer', 'winch', 'base', 'camera', 'sensor', 'door', 'panel', 'valve', 'pump', 'fan', 'light', 'tray', 'lid', 'hatch', 'flap', 'crane', 'boom',
  'wheel', 'mast', 'antenna', 'probe', 'nozzle', 'brush', 'scoop', 'drill', 'saw', 'clamp', 'hook', 'belt', 'roller', 'spindle', 'piston', 'lever', 'switch', 'dial', 'knob', 'latch',
  'cover', 'shield', 'sail', 'rudder', 'flag', 'bell', 'horn', 'siren', 'beacon', 'lamp'];
const DIRECTIONS = ['forward', 'backward', 'left', 'right', 'up', 'down', 'slowly', 'quickly', 'gently', 'fully'];
const PLACES = ['', 'near the dock', 'by the wall', 'at the station', 'in the lab', 'on the ramp', 'in the yard', 'at the gate', 'by the table', 'in the hall'];
const UNITS = [['meters', 'drive', 'distance_m', 1], ['degrees', 'turn', 'degrees', 1], ['seconds', 'wait', 'ms', 1000]] as const;

/** n distinct traces; deterministic for a given n. */
export function syntheticTraces(n: number): TraceRecord[] {
  const out: TraceRecord[] = [];
  let i = 0;
  for (const place of PLACES) for (const dir of DIRECTIONS) for (const obj of OBJECTS) for (const verb of VERBS) {
    if (out.length >= n) return out;
    const [unit, tool, arg, scale] = UNITS[i % UNITS.length] as (typeof UNITS)[number];
    const num = (i % 9) + 1;
    const goal = `${verb} the ${obj} ${dir} ${num} ${unit}${place ? ` ${place}` : ''}`;
    out.push({
      file: `synthetic-${i}.yaml`,
      format: 'core',
      trace: {
        goal_signature: goalSignature(goal), goal_text: goal, success_rate: 1, usage_count: i % 20,
        tool_calls: [{ name: tool, args: { [arg]: num * scale } }, { name: 'wait', args: { ms: 100 } }],
      },
    });
    i++;
  }
  return out;
}

/** Goals to match against a synthetic set: paraphrases, new numbers, and misses. */
export function syntheticGoals(records: readonly TraceRecord[], count: number): string[] {
  const goals: string[] = [];
  for (let k = 0; k < count; k++) {
    const r = records[(k * 7919) % records.length] as TraceRecord;
    const g = r.trace.goal_text;
    switch (k % 4) {
      case 0: goals.push(g); break;
      case 1: goals.push(`please ${g.replace(/\d+/, String((k % 5) + 2))}`); break;
      case 2: goals.push(g.replace('the ', 'your ')); break;
      default: goals.push(`${g} and then hover`);
    }
  }
  return goals;
}

export function writeTraceDir(dir: string, records: readonly TraceRecord[]): void {
  mkdirSync(dir, { recursive: true });
  for (const [i, r] of records.entries()) {
    const { goal_signature: _sig, ...body } = r.trace;
    writeFileSync(join(dir, `t${String(i).padStart(6, '0')}.yaml`), stringifyYaml(body));
  }
}
