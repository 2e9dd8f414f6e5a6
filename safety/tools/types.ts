/**
 * What a tool is. Each tool is one module in safety/tools/ exporting a `Tool`: its argument
 * schema (the one declaration: the validators are compiled from it and the LLM sees it narrowed to
 * the board), the units of its numbers, which part of the board profile makes it exist, and its
 * handler. safety/tools/index.ts lists them in one table.
 */
import type { Clock } from '../../lib/clock.js';
import type { FactStore } from '../../lib/facts.js';
import type { ActuatorSpec, ActuatorType, BoardProfile } from '../../drivers/types.js';
import type { ActuatorBank } from '../actuators.js';
import type { CommandRateLimiter } from '../interlocks.js';
import type { SystemToolsOptions } from '../system-tools.js';

export type ToolKind = 'actuation' | 'sensing' | 'meta' | 'system';

/** What a number in a tool's arguments measures: used to bind goal quantities to arguments. */
export interface ArgUnit {
  kind: 'length' | 'angle' | 'time' | 'fraction' | 'count' | 'number' | 'angular_speed';
  /** Multiply the SI value of a goal quantity (m, deg, s, fraction) by this to get the argument. */
  fromSi: number;
}

/** A JSON Schema property (draft-07), as plain data. */
export type PropertySchema = Record<string, unknown>;

/** The board-independent shape of a tool's arguments; compiled into the validator `tool_<name>`. */
export interface ArgsSchema {
  type: 'object';
  properties: Record<string, PropertySchema>;
  required?: string[];
  additionalProperties: false;
}

/** A tool's arguments on one board: the shape narrowed by the board (actuator enums, ranges). */
export interface JsonSchemaObject {
  type: 'object';
  properties: Record<string, PropertySchema>;
  required: string[];
  additionalProperties: false;
}

/** Which part of the board profile (or config) makes the tool exist on a board. */
export type ToolRequirement =
  | { actuators: readonly ActuatorType[] }
  | { sensors: true }
  | { option: 'facts' | 'systemTools' }
  | { always: true };

/** How one board defines the tool: what the LLM reads, and bounds that narrow the schema. */
export interface BoardTool {
  description: string;
  /** Words that help search_tools find the tool. */
  keywords: string[];
  /** Per argument, keywords merged over the shape's property (enum, minimum, maximum). */
  bounds?: Record<string, PropertySchema>;
}

export interface ToolDefinition {
  name: string;
  description: string;
  kind: ToolKind;
  /** True when the tool moves something (deadman, speed scale, CAUTIOUS mode apply). */
  motion: boolean;
  /** JSON Schema of the arguments for this board (enums of actuator names, declared ranges). */
  parameters: JsonSchemaObject;
  /** Units of numeric arguments, by argument name. */
  units: Record<string, ArgUnit>;
  /** Words that help search_tools find the tool. */
  keywords: string[];
}

export interface ToolCatalogOptions {
  systemTools: boolean;
  /** L4 memory tools (fact_read, fact_write). */
  facts?: boolean;
  disabled?: readonly string[];
}

export interface HandlerEnv {
  profile: BoardProfile;
  bank: ActuatorBank;
  clock: Clock;
  catalog: ReadonlyMap<string, ToolDefinition>;
  limiter: CommandRateLimiter;
  /** Product of the configured and the sentience speed scale, in (0, 1]. */
  speedScale: number;
  owner: string;
  signal: AbortSignal;
  system: SystemToolsOptions | undefined;
  /** L4 memory behind fact_read / fact_write. */
  facts: FactStore | undefined;
  /** Records that an argument was clamped (on_range: clamp). */
  adjust(note: string): void;
  /** Keeps the owner's open-ended motions alive (deadman refresh). */
  refresh(): void;
}

export type Args = Record<string, unknown>;
/**
 * Receives arguments the gate has already shape-checked, applies the actuator's declared limits
 * (range, rate, run time, interlocks, speed scale) and acts only through the ActuatorBank.
 */
export type Handler = (args: Args, env: HandlerEnv) => Promise<unknown>;

/** One key press of `llmos jog` on an actuator, as runtime/operator/jog-keys.ts reads it. */
export interface JogStep {
  /** Arrow direction: 1 up, -1 down, 2 right, -2 left. */
  dir: 1 | -1 | 2 | -2;
  /** The actuator's last commanded value (servo angle, pwm duty), for relative steps. */
  current: number | undefined;
  /** The operator's step scale (+ and - double and halve it). */
  scale: number;
  /** Fraction of the actuator's maximum speed for this step. */
  speed: number;
  /** How long one step may take: half the actuator's deadman window. */
  stepMs: number;
}

/** What a call asks of its actuator, for reflex rules (safety/reflexes.ts). */
export interface Motion {
  moves: boolean;
  /** +1, -1, or 0 = neither way (in place). */
  direction: -1 | 0 | 1;
  /** Forward speed in command units (a drive base, a motor): for the stopping distance. */
  speed: number;
}

/** One tool: everything about it, in its own module. */
export interface Tool {
  name: string;
  /** One line, whatever the board (the tool reference; the LLM reads `define`'s description). */
  summary: string;
  kind: ToolKind;
  /** True when the tool moves something (deadman, speed scale, CAUTIOUS mode apply). */
  motion: boolean;
  schema: ArgsSchema;
  /** Units of its numeric arguments, by argument name, whatever the board. */
  units: Readonly<Record<string, ArgUnit>>;
  /** Matcher concepts (ids in runtime/matcher/lexicon.ts) that a trace calling this tool implies. */
  concepts?: readonly string[];
  requires: ToolRequirement;
  /** This board's definition (called only when the board meets `requires`). */
  define(profile: BoardProfile): BoardTool;
  handler: Handler;
  /**
   * Whether and which way the call moves its actuator, from the arguments and (lazily) the
   * actuator's current level; without it, the tool moves nothing a reflex rule can judge.
   */
  intent?(args: Args, current: () => number | undefined, speedScale: number): Motion;
  /**
   * How long a call takes at full speed scale, for the run's derived wall-time limit
   * (runtime/run-limit.ts); without it, a call has no duration of its own. `spec` is the named
   * actuator, else the board's drive base.
   */
  nominalMs?(args: Args, spec: ActuatorSpec | undefined): number;
  /** The arguments of one short jog step on this actuator, or undefined: the key is not this tool's. */
  jog?(spec: ActuatorSpec, step: JogStep): Args | undefined;
}
