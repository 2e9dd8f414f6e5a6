/**
 * The tools: one table of modules (safety/tools/<tool>.ts), in the order the catalog lists them.
 * Each module declares its arguments once (the validators `tool_<name>` are compiled from that
 * schema by scripts/build-validators.mjs), their units, which part of the board profile makes the
 * tool exist, and its handler. The catalog is this table resolved against one board: traces,
 * crystallized functions, operators and the LLM can call these tools and nothing else; the LLM
 * sees each schema narrowed to the board (actuator enums, declared ranges) and the gate enforces it.
 */
import type { ActuatorType, BoardProfile } from '../../drivers/types.js';
import { tool as Bash } from './Bash.js';
import { tool as digital_write } from './digital_write.js';
import { tool as drive } from './drive.js';
import { tool as fact_read } from './fact_read.js';
import { tool as fact_write } from './fact_write.js';
import { tool as motor_set } from './motor_set.js';
import { tool as pwm_write } from './pwm_write.js';
import { tool as Read } from './Read.js';
import { tool as search_tools } from './search_tools.js';
import { tool as sensor_read } from './sensor_read.js';
import { tool as serial_send } from './serial_send.js';
import { tool as servo_move } from './servo_move.js';
import { tool as turn } from './turn.js';
import { tool as wait } from './wait.js';
import { tool as Write } from './Write.js';
import type { ArgUnit, Handler, JsonSchemaObject, Tool, ToolCatalogOptions, ToolDefinition } from './types.js';

export const TOOLS: readonly Tool[] = [
  digital_write, pwm_write, servo_move, motor_set, drive, turn, serial_send, sensor_read, wait, search_tools,
  fact_read, fact_write, Write, Read, Bash,
];

// A Map: tool names come from traces, operators and the model (a call named __proto__).
const BY_NAME: ReadonlyMap<string, Tool> = new Map(TOOLS.map((t) => [t.name, t]));

export function toolNamed(name: string): Tool | undefined {
  return BY_NAME.get(name);
}

/** The handler of a tool (whether or not this board has it). */
export function handlerOf(name: string): Handler | undefined {
  return BY_NAME.get(name)?.handler;
}

/** The tools that act on an actuator of this type (how the board profile defines them). */
export function toolsActingOn(type: ActuatorType): Tool[] {
  return TOOLS.filter((t) => 'actuators' in t.requires && t.requires.actuators.includes(type));
}

export const SYSTEM_TOOLS: readonly string[] = TOOLS.filter((t) => t.kind === 'system').map((t) => t.name);

/**
 * Units of the numeric arguments of the tools, whatever the board: the matcher binds goal
 * quantities through them ("50 cm" -> drive.distance_m 0.5, "2 seconds" -> wait.ms 2000).
 */
export const TOOL_UNITS: Readonly<Record<string, Readonly<Record<string, ArgUnit>>>> = Object.fromEntries(
  TOOLS.filter((t) => Object.keys(t.units).length > 0).map((t) => [t.name, t.units]),
);

/** The unit of a tool's numeric argument on this board (its catalog), else the tools' default. */
export function unitLookup(catalog: ReadonlyMap<string, ToolDefinition>): (tool: string, arg: string) => ArgUnit | undefined {
  return (tool, arg) => catalog.get(tool)?.units[arg] ?? toolNamed(tool)?.units[arg];
}

function present(t: Tool, profile: BoardProfile, options: ToolCatalogOptions): boolean {
  const r = t.requires;
  if ('actuators' in r) return [...profile.actuators.values()].some((a) => r.actuators.includes(a.type));
  if ('sensors' in r) return profile.sensors.size > 0;
  if ('option' in r) return r.option === 'facts' ? options.facts === true : options.systemTools;
  return true;
}

/** A tool's schema narrowed by its board bounds, property by property, in the schema's order. */
export function boardParameters(t: Tool, bounds: Record<string, Record<string, unknown>> = {}): JsonSchemaObject {
  const properties = Object.fromEntries(Object.entries(t.schema.properties)
    .map(([k, p]) => [k, { ...p, ...(Object.hasOwn(bounds, k) ? bounds[k] : {}) }]));
  return { type: 'object', properties, required: [...(t.schema.required ?? [])], additionalProperties: false };
}

/** The table resolved against a board: the tools it has, as the LLM and the gate see them. */
export function buildToolCatalog(profile: BoardProfile, options: ToolCatalogOptions): Map<string, ToolDefinition> {
  const disabled = new Set(options.disabled ?? []);
  const catalog = new Map<string, ToolDefinition>();
  for (const t of TOOLS) {
    if (disabled.has(t.name) || !present(t, profile, options)) continue;
    const d = t.define(profile);
    catalog.set(t.name, {
      name: t.name, kind: t.kind, motion: t.motion, description: d.description,
      parameters: boardParameters(t, d.bounds), units: { ...t.units }, keywords: d.keywords,
    });
  }
  return catalog;
}

export { readSensor } from './common.js';
export { searchTools } from './search.js';
export type { ArgUnit, Args, Handler, HandlerEnv, JsonSchemaObject, Tool, ToolCatalogOptions, ToolDefinition, ToolKind } from './types.js';
