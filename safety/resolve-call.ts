/**
 * The resolved call: arguments a tool leaves implicit are filled in before any hook rule sees
 * the call, so a rule keyed on `actuator: base` also matches `drive {distance_m}` (which names no
 * actuator because the board has one drive base). Only what the handler would pick anyway is
 * filled in: an `actuator` (or `sensor`) argument whose allowed values are exactly one name.
 */
import type { ToolDefinition } from './tools/index.js';

const IMPLICIT = ['actuator', 'sensor'] as const;

export function resolveImplicit(def: ToolDefinition, args: Record<string, unknown>): Record<string, unknown> {
  let out = args;
  for (const key of IMPLICIT) {
    if (args[key] !== undefined) continue;
    const prop = Object.hasOwn(def.parameters.properties, key) ? def.parameters.properties[key] as { enum?: unknown[] } : undefined;
    if (!prop || !Array.isArray(prop.enum) || prop.enum.length !== 1) continue;
    if (out === args) out = { ...args };
    out[key] = prop.enum[0];
  }
  return out;
}
