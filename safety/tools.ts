/**
 * The tool vocabulary, generated from the board profile. Traces, crystallized functions and the
 * LLM can call these tools and nothing else. Each tool has a JSON Schema for its arguments in
 * which the actuator is an enum of the profile's names and numbers carry the declared limits;
 * the LLM sees exactly these schemas, and the gate enforces them.
 */
import type { ActuatorSpec, ActuatorType, BoardProfile } from '../drivers/types.js';

export type ToolKind = 'actuation' | 'sensing' | 'meta' | 'system';

/** What a number in a tool's arguments measures: used to bind goal quantities to arguments. */
export interface ArgUnit {
  kind: 'length' | 'angle' | 'time' | 'fraction' | 'count' | 'number' | 'angular_speed';
  /** Multiply the SI value of a goal quantity (m, deg, s, fraction) by this to get the argument. */
  fromSi: number;
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

export interface JsonSchemaObject {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required: string[];
  additionalProperties: false;
}

export interface ToolCatalogOptions {
  systemTools: boolean;
  /** L4 memory tools (fact_read, fact_write). */
  facts?: boolean;
  disabled?: readonly string[];
}

/**
 * Units of the numeric arguments of the base tools, whatever the board: the matcher binds goal
 * quantities through them ("50 cm" -> drive.distance_m 0.5, "2 seconds" -> wait.ms 2000).
 */
export const TOOL_UNITS: Readonly<Record<string, Readonly<Record<string, ArgUnit>>>> = {
  drive: { distance_m: { kind: 'length', fromSi: 1 }, speed: { kind: 'fraction', fromSi: 1 } },
  turn: { degrees: { kind: 'angle', fromSi: 1 }, speed: { kind: 'fraction', fromSi: 1 } },
  servo_move: { angle: { kind: 'angle', fromSi: 1 }, speed_dps: { kind: 'angular_speed', fromSi: 1 } },
  motor_set: { speed: { kind: 'fraction', fromSi: 1 }, duration_ms: { kind: 'time', fromSi: 1000 } },
  pwm_write: { duty: { kind: 'fraction', fromSi: 1 } },
  wait: { ms: { kind: 'time', fromSi: 1000 } },
  serial_send: { timeout_ms: { kind: 'time', fromSi: 1000 } },
};

/** The unit of a tool's numeric argument on this board (its catalog), else the base tools' default. */
export function unitLookup(catalog: ReadonlyMap<string, ToolDefinition>): (tool: string, arg: string) => ArgUnit | undefined {
  return (tool, arg) => catalog.get(tool)?.units[arg] ?? TOOL_UNITS[tool]?.[arg];
}

export const SYSTEM_TOOLS = ['Write', 'Read', 'Bash'] as const;
export const BASE_TOOLS = [
  'digital_write', 'pwm_write', 'servo_move', 'motor_set', 'drive', 'turn', 'serial_send', 'sensor_read', 'wait', 'search_tools',
] as const;

function namesOf(profile: BoardProfile, type: ActuatorType): string[] {
  return [...profile.actuators.values()].filter((a) => a.type === type).map((a) => a.name);
}

function describeActuators(profile: BoardProfile, type: ActuatorType): string {
  return [...profile.actuators.values()].filter((a) => a.type === type)
    .map((a) => `${a.name} [${a.range[0]}..${a.range[1]}]${a.description ? `: ${a.description}` : ''}`).join('; ');
}

function unionRange(specs: ActuatorSpec[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of specs) { lo = Math.min(lo, s.range[0]); hi = Math.max(hi, s.range[1]); }
  return [lo, hi];
}

function obj(properties: Record<string, Record<string, unknown>>, required: string[]): JsonSchemaObject {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** Builds the tool set for a profile. */
export function buildToolCatalog(profile: BoardProfile, options: ToolCatalogOptions): Map<string, ToolDefinition> {
  const tools: ToolDefinition[] = [];
  const of = (type: ActuatorType): ActuatorSpec[] => [...profile.actuators.values()].filter((a) => a.type === type);

  const digital = namesOf(profile, 'digital_out');
  if (digital.length) {
    tools.push({
      name: 'digital_write', kind: 'actuation', motion: false,
      description: `Switch a digital output on (true) or off (false). Outputs: ${describeActuators(profile, 'digital_out')}.`,
      parameters: obj({ actuator: { type: 'string', enum: digital }, value: { type: 'boolean' } }, ['actuator', 'value']),
      units: {}, keywords: ['on', 'off', 'switch', 'light', 'led', 'blink', 'flash', 'enable', 'disable', 'output', 'lamp', ...digital],
    });
  }
  const pwm = of('pwm');
  if (pwm.length) {
    const [lo, hi] = unionRange(pwm);
    tools.push({
      name: 'pwm_write', kind: 'actuation', motion: false,
      description: `Set a PWM output's duty cycle. Outputs: ${describeActuators(profile, 'pwm')}.`,
      parameters: obj({ actuator: { type: 'string', enum: pwm.map((a) => a.name) }, duty: { type: 'number', minimum: lo, maximum: hi } }, ['actuator', 'duty']),
      units: { ...TOOL_UNITS['pwm_write'] },
      keywords: ['duty', 'pwm', 'beep', 'buzz', 'sound', 'tone', 'dim', 'brightness', 'volume', ...pwm.map((a) => a.name)],
    });
  }
  const servos = of('servo');
  if (servos.length) {
    const [lo, hi] = unionRange(servos);
    const maxRate = Math.max(...servos.map((s) => s.max_rate ?? 360));
    tools.push({
      name: 'servo_move', kind: 'actuation', motion: false,
      description: `Move a servo to an angle in degrees, optionally at speed_dps degrees per second. Servos: ${describeActuators(profile, 'servo')}.`,
      parameters: obj({
        actuator: { type: 'string', enum: servos.map((a) => a.name) },
        angle: { type: 'number', minimum: lo, maximum: hi },
        speed_dps: { type: 'number', exclusiveMinimum: 0, maximum: maxRate },
      }, ['actuator', 'angle']),
      units: { ...TOOL_UNITS['servo_move'] },
      keywords: ['servo', 'angle', 'position', 'raise', 'lower', 'lift', 'open', 'close', 'grab', 'release', 'wave', 'point', 'degrees', 'arm', 'gripper', 'claw', ...servos.map((a) => a.name)],
    });
  }
  const motors = of('motor');
  if (motors.length) {
    const maxRun = Math.max(...motors.map((m) => m.max_run_ms ?? 30000));
    tools.push({
      name: 'motor_set', kind: 'actuation', motion: true,
      description: `Run a motor at a speed from -1 to 1, for duration_ms if given (it stops after that). Without a duration the motion lasts only while refreshed (deadman). Motors: ${describeActuators(profile, 'motor')}.`,
      parameters: obj({
        actuator: { type: 'string', enum: motors.map((a) => a.name) },
        speed: { type: 'number', minimum: -1, maximum: 1 },
        duration_ms: { type: 'integer', minimum: 1, maximum: maxRun },
      }, ['actuator', 'speed']),
      units: { ...TOOL_UNITS['motor_set'] },
      keywords: ['motor', 'spin', 'run', 'winch', 'reel', 'wind', 'hoist', 'pull', 'speed', 'seconds', ...motors.map((a) => a.name)],
    });
  }
  const bases = of('differential_drive');
  if (bases.length) {
    const actuator = { type: 'string', enum: bases.map((a) => a.name) };
    tools.push({
      name: 'drive', kind: 'actuation', motion: true,
      description: 'Drive the base straight for distance_m metres (negative = backward) at speed 0..1 of its maximum.',
      parameters: obj({ distance_m: { type: 'number', minimum: -10, maximum: 10 }, speed: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, actuator }, ['distance_m']),
      units: { ...TOOL_UNITS['drive'] },
      keywords: ['drive', 'move', 'go', 'forward', 'backward', 'back', 'reverse', 'travel', 'distance', 'meters', 'metres', 'roll', 'base', 'wheels'],
    });
    tools.push({
      name: 'turn', kind: 'actuation', motion: true,
      description: 'Turn the base in place by degrees (positive = left / counter-clockwise, negative = right / clockwise) at speed 0..1.',
      parameters: obj({ degrees: { type: 'number', minimum: -3600, maximum: 3600 }, speed: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, actuator }, ['degrees']),
      units: { ...TOOL_UNITS['turn'] },
      keywords: ['turn', 'rotate', 'spin', 'left', 'right', 'clockwise', 'degrees', 'pivot', 'heading', 'face'],
    });
  }
  const lines = of('serial_line');
  if (lines.length) {
    tools.push({
      name: 'serial_send', kind: 'actuation', motion: false,
      description: `Send one line to a serial device (only allow-listed lines), optionally awaiting its reply. Devices: ${lines.map((l) => `${l.name} (allowed: ${(l.allow ?? []).join(' | ')})`).join('; ')}.`,
      parameters: obj({
        actuator: { type: 'string', enum: lines.map((a) => a.name) },
        line: { type: 'string', maxLength: 256 },
        await_reply: { type: 'boolean' },
        timeout_ms: { type: 'integer', minimum: 1, maximum: 60000 },
      }, ['actuator', 'line']),
      units: { ...TOOL_UNITS['serial_send'] },
      keywords: ['serial', 'uart', 'send', 'command', 'controller', 'ping', 'status', 'line', ...lines.map((a) => a.name)],
    });
  }
  const sensors = [...profile.sensors.values()];
  if (sensors.length) {
    tools.push({
      name: 'sensor_read', kind: 'sensing', motion: false,
      description: `Read a sensor. Sensors: ${sensors.map((s) => `${s.name}${s.unit ? ` (${s.unit})` : ''}${s.description ? `: ${s.description}` : ''}`).join('; ')}.`,
      parameters: obj({ sensor: { type: 'string', enum: sensors.map((s) => s.name) } }, ['sensor']),
      units: {},
      keywords: ['read', 'sensor', 'measure', 'check', 'get', 'value', 'level', ...sensors.flatMap((s) => [s.name, s.role ?? '', s.unit ?? ''])].filter(Boolean),
    });
  }
  tools.push({
    name: 'wait', kind: 'meta', motion: false,
    description: 'Wait for ms milliseconds (at most 60000). Motions started by this run stay alive while it waits.',
    parameters: obj({ ms: { type: 'integer', minimum: 0, maximum: 60000 } }, ['ms']),
    units: { ...TOOL_UNITS['wait'] },
    keywords: ['wait', 'pause', 'sleep', 'delay', 'seconds', 'hold'],
  });
  tools.push({
    name: 'search_tools', kind: 'meta', motion: false,
    description: 'Find the tools relevant to a task; returns their names, descriptions and argument schemas.',
    parameters: obj({ query: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 20 } }, ['query']),
    units: {}, keywords: ['search', 'find', 'tools', 'help'],
  });
  if (options.facts) {
    tools.push({
      name: 'fact_read', kind: 'meta', motion: false,
      description: 'Read long-term facts (L4 memory): one by key, or every fact whose key starts with prefix.',
      parameters: obj({ key: { type: 'string' }, prefix: { type: 'string' } }, []),
      units: {}, keywords: ['remember', 'recall', 'fact', 'facts', 'memory', 'know', 'note', 'read'],
    });
    tools.push({
      name: 'fact_write', kind: 'meta', motion: false,
      description: 'Store a long-term fact (L4 memory) under a key (lower case, e.g. room.width_m); value null deletes it.',
      parameters: obj({ key: { type: 'string' }, value: { type: ['string', 'number', 'boolean', 'null'] } }, ['key', 'value']),
      units: {}, keywords: ['remember', 'store', 'fact', 'note', 'memory', 'save', 'forget'],
    });
  }
  if (options.systemTools) {
    tools.push({
      name: 'Write', kind: 'system', motion: false,
      description: 'Write a text file inside the workspace.',
      parameters: obj({ file_path: { type: 'string' }, content: { type: 'string' } }, ['file_path', 'content']),
      units: {}, keywords: ['write', 'file', 'save', 'create', 'code'],
    });
    tools.push({
      name: 'Read', kind: 'system', motion: false,
      description: 'Read a text file inside the workspace.',
      parameters: obj({ file_path: { type: 'string' } }, ['file_path']),
      units: {}, keywords: ['read', 'file', 'open', 'load'],
    });
    tools.push({
      name: 'Bash', kind: 'system', motion: false,
      description: 'Run a shell command in the workspace (destructive commands are blocked).',
      parameters: obj({ command: { type: 'string' }, timeout: { type: 'number', minimum: 0 } }, ['command']),
      units: {}, keywords: ['run', 'shell', 'command', 'execute', 'bash', 'python', 'test'],
    });
  }
  const disabled = new Set(options.disabled ?? []);
  return new Map(tools.filter((t) => !disabled.has(t.name)).map((t) => [t.name, t]));
}

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 1).map((w) => (w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w));
}

/** search_tools: the few tools whose name, keywords and description best fit a query. */
export function searchTools(catalog: ReadonlyMap<string, ToolDefinition>, query: string, limit = 3): ToolDefinition[] {
  const q = new Set(words(query));
  if (q.size === 0) return [];
  const scored: Array<{ tool: ToolDefinition; score: number }> = [];
  for (const tool of catalog.values()) {
    if (tool.name === 'search_tools') continue;
    const strong = new Set([...words(tool.name.replace(/_/g, ' ')), ...tool.keywords.flatMap(words)]);
    const weak = new Set(words(tool.description));
    let score = 0;
    for (const w of q) {
      if (strong.has(w)) score += 2;
      else if (weak.has(w)) score += 0.5;
    }
    if (score > 0) scored.push({ tool, score });
  }
  scored.sort((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name));
  return scored.slice(0, limit).map((s) => s.tool);
}
