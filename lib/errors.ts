/**
 * Every error the runtime raises carries a stable `code` (like Node's ERR_*) and a message a
 * person can act on. This table is the one source of facts about the codes: each code's layer,
 * whether it is a refusal, whether a step's retry policy may try again, whether it ends a run,
 * whether it is bad usage (exit status 2), and its description. The helpers below answer those
 * questions for the rest of the code; docs/errors.md is generated from it (`npm run docs:errors`).
 */

/** Where an error comes from; the table is grouped by it. */
export type ErrorLayer = 'cli' | 'board' | 'trace' | 'match' | 'tool' | 'safety' | 'run' | 'driver' | 'state' | 'llm' | 'mqtt' | 'internal';

export interface ErrorFacts {
  readonly layer: ErrorLayer;
  readonly description: string;
  /** The safety layer said no to a tool call (a range, a rate, a reflex, a hook, the e-stop): reported as a safety rejection. */
  readonly refusal: boolean;
  /** A trace step's on_error retry may try the call again (false: retrying cannot change the answer, or the run was stopped). */
  readonly retryable: boolean;
  /** Ends an LLM tool loop at once instead of being shown to the model as a failed call. */
  readonly endsRun: boolean;
  /** Bad usage or configuration: command-line tools exit with status 2 (1 for every other code). */
  readonly usage: boolean;
}

/** Titles of the layers, in the order the reference lists them. */
export const ERROR_LAYERS: Readonly<Record<ErrorLayer, string>> = {
  cli: 'the command line and the configuration',
  board: 'the board profile',
  trace: 'traces, bundles and crystallized functions',
  match: 'matching a goal',
  tool: 'tool calls before the safety rules',
  safety: 'the safety gate and the e-stop',
  run: 'running a goal',
  driver: 'drivers and devices',
  state: 'state files and the board\'s owner',
  llm: 'the local LLM',
  mqtt: 'MQTT',
  internal: 'bugs',
};

const CLI_ERRORS = {
  ERR_USAGE: { layer: 'cli', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'bad command-line usage (unknown flag, missing value)' },
  ERR_CONFIG_INVALID: { layer: 'cli', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'the configuration file or an override failed its schema' },
  ERR_CONFIG_NOT_FOUND: { layer: 'cli', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'a configuration, board or trace path does not exist' },
} as const satisfies Record<string, ErrorFacts>;

const BOARD_ERRORS = {
  ERR_BOARD_PROFILE: { layer: 'board', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'the board profile is malformed or inconsistent' },
} as const satisfies Record<string, ErrorFacts>;

const TRACE_ERRORS = {
  ERR_TRACE_INVALID: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a trace file failed the trace schema' },
  ERR_TRACE_WRITE: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a trace could not be written' },
  ERR_TRACE_NOT_FOUND: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'no trace has that signature' },
  ERR_TRACE_CONFLICT: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'an import would overwrite a different existing trace or crystallized function' },
  ERR_TRACE_BOARD_MISMATCH: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the learned trace uses a tool, actuator or sensor this board does not have' },
  ERR_BUNDLE_INVALID: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a trace bundle is malformed: manifest, file list or a file inside failed validation' },
  ERR_BUNDLE_CHECKSUM: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a file in a trace bundle does not match its sha256 in the manifest' },
  ERR_CRYSTALLIZED_INVALID: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a crystallized function failed to load or imports something other than types' },
  ERR_CRYSTALLIZED_UNTRUSTED: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a crystallized file is neither what the generator emits for its trace nor pinned by the operator; none of its code was loaded' },
  ERR_TOOL_REVOKED: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a crystallized function called its tool API after its run ended (or was aborted); nothing moved' },
  ERR_LEARN_REJECTED: { layer: 'trace', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a run was not saved as a trace: it failed a learning check' },
} as const satisfies Record<string, ErrorFacts>;

const MATCH_ERRORS = {
  ERR_NO_MATCH: { layer: 'match', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'no learned trace fits the goal well enough for a deterministic run' },
  ERR_NOT_A_COMMAND: { layer: 'match', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the goal is a question, a statement or a conditional/deferred goal: only commands run (say it as an order)' },
} as const satisfies Record<string, ErrorFacts>;

const TOOL_ERRORS = {
  ERR_TOOL_UNKNOWN: { layer: 'tool', refusal: false, retryable: false, endsRun: false, usage: false,
    description: 'the tool is not in the board\'s tool set' },
  ERR_TOOL_DISABLED: { layer: 'tool', refusal: false, retryable: false, endsRun: false, usage: false,
    description: 'the tool exists but the configuration disables it' },
  ERR_TOOL_ARGS: { layer: 'tool', refusal: false, retryable: false, endsRun: false, usage: false,
    description: 'the tool arguments are malformed' },
  ERR_ACTUATOR_UNKNOWN: { layer: 'tool', refusal: false, retryable: false, endsRun: false, usage: false,
    description: 'the board profile declares no such actuator (or not of that type)' },
  ERR_SENSOR_UNKNOWN: { layer: 'tool', refusal: false, retryable: false, endsRun: false, usage: false,
    description: 'the board profile declares no such sensor' },
} as const satisfies Record<string, ErrorFacts>;

const SAFETY_ERRORS = {
  ERR_SAFETY_RANGE: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'a value is outside the actuator\'s declared range' },
  ERR_SAFETY_RATE: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'a change is faster than the actuator\'s maximum rate of change' },
  ERR_SAFETY_RUNTIME: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'a motion would run longer than the actuator\'s maximum continuous run time' },
  ERR_SAFETY_RATE_LIMIT: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'too many commands to one actuator per second' },
  ERR_SAFETY_INTERLOCK: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'an interlock declared in the board profile forbids the command now' },
  ERR_SAFETY_SERIAL_LINE: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'the serial line is not on the device\'s allow-list' },
  ERR_SAFETY_SYSTEM_TOOL: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'a system tool call was blocked (path outside the workspace, destructive command)' },
  ERR_SAFETY_REFLEX: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'a reflex rule of the board profile refused the command or stopped the motion (a sensor reads a limit, or stopped answering)' },
  ERR_SAFETY_WATCHDOG: { layer: 'safety', refusal: true, retryable: false, endsRun: true, usage: false,
    description: 'the watchdog tripped; actuators were brought to their safe values' },
  ERR_ESTOP_ENGAGED: { layer: 'safety', refusal: true, retryable: false, endsRun: true, usage: false,
    description: 'the emergency stop is engaged; release it explicitly to move again' },
  ERR_ESTOP_INPUT_ACTIVE: { layer: 'safety', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a release was refused because an e-stop input (button) is still active' },
  ERR_HOOK_BLOCKED: { layer: 'safety', refusal: true, retryable: false, endsRun: false, usage: false,
    description: 'a pre_tool_use hook blocked the call' },
  ERR_CONFIRM_DENIED: { layer: 'safety', refusal: false, retryable: false, endsRun: false, usage: false,
    description: 'the call needed a confirmation that was refused or timed out' },
} as const satisfies Record<string, ErrorFacts>;

const RUN_ERRORS = {
  ERR_STEP_FAILED: { layer: 'run', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a trace step failed and its on_error policy stopped the run' },
  ERR_CHECK_FAILED: { layer: 'run', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a step ran but its check did not pass' },
  ERR_ABORTED: { layer: 'run', refusal: false, retryable: false, endsRun: true, usage: false,
    description: 'the run was aborted (e-stop, shutdown or a signal)' },
  ERR_TIME_LIMIT: { layer: 'run', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a run or a step could not finish within its wall-time limit (safety.run_limit_ms, safety.max_step_ms); it was stopped or refused' },
  ERR_EXPIRED: { layer: 'run', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the deadline of a command passed before it could start; it was not executed' },
  ERR_BUDGET_EXCEEDED: { layer: 'run', refusal: false, retryable: false, endsRun: true, usage: false,
    description: 'an LLM budget (calls, tokens, wall time) is used up' },
} as const satisfies Record<string, ErrorFacts>;

const DRIVER_ERRORS = {
  ERR_DRIVER: { layer: 'driver', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a driver failed to open, read or write' },
  ERR_DRIVER_UNAVAILABLE: { layer: 'driver', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the driver\'s hardware or library is not present on this machine' },
  ERR_DRIVER_DISCONNECTED: { layer: 'driver', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the device was unplugged or its board was lost mid-run (serial devices reconnect by themselves)' },
  ERR_SERIAL_TIMEOUT: { layer: 'driver', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a serial device did not answer in time' },
} as const satisfies Record<string, ErrorFacts>;

const STATE_ERRORS = {
  ERR_STATE: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a state file could not be read or written' },
  ERR_PATH_UNUSABLE: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a path for state, logs, the sim log, a board or a config is not a usable file or directory (a device, /proc, unwritable)' },
  ERR_FACTS_FULL: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the facts store is full' },
  ERR_OWNER_BUSY: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'another runtime process owns this state directory (its lock is held); stop it, send goals to it (leave out --standalone), or use another --state' },
  ERR_OWNER_MISMATCH: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'a command sent to the running owner asks for another board, traces directory or setting than the owner runs with' },
  ERR_OWNER_LOST: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the runtime that owns the state directory stopped before answering a forwarded command' },
  ERR_RUN_UNKNOWN: { layer: 'state', refusal: false, retryable: true, endsRun: false, usage: true,
    description: 'no run with this id in the session log (llmos export mcap --list shows the runs it holds)' },
} as const satisfies Record<string, ErrorFacts>;

const LLM_ERRORS = {
  ERR_LLM_UNAVAILABLE: { layer: 'llm', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the Ollama server could not be reached or timed out' },
  ERR_LLM_BAD_OUTPUT: { layer: 'llm', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the model answered with something that is not a usable tool call' },
} as const satisfies Record<string, ErrorFacts>;

const MQTT_ERRORS = {
  ERR_MQTT: { layer: 'mqtt', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'the MQTT connection or a payload failed' },
} as const satisfies Record<string, ErrorFacts>;

const INTERNAL_ERRORS = {
  ERR_INTERNAL: { layer: 'internal', refusal: false, retryable: true, endsRun: false, usage: false,
    description: 'a bug: please report it with the log' },
} as const satisfies Record<string, ErrorFacts>;

/** Every code, grouped by layer above; the key is the code. */
export const ERROR_CODES = {
  ...CLI_ERRORS, ...BOARD_ERRORS, ...TRACE_ERRORS, ...MATCH_ERRORS, ...TOOL_ERRORS, ...SAFETY_ERRORS, ...RUN_ERRORS, ...DRIVER_ERRORS, ...STATE_ERRORS, ...LLM_ERRORS, ...MQTT_ERRORS, ...INTERNAL_ERRORS,
} as const satisfies Record<string, ErrorFacts>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LlmosError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmosError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isLlmosError(e: unknown): e is LlmosError {
  return e instanceof LlmosError;
}

/** Wraps anything thrown into a coded error, keeping coded ones as they are. */
export function toLlmosError(e: unknown, fallback: ErrorCode = 'ERR_INTERNAL'): LlmosError {
  if (e instanceof LlmosError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LlmosError(fallback, message, undefined, { cause: e });
}

function factsOf(code: string | undefined): ErrorFacts | undefined {
  return code !== undefined && Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}

/** The safety layer refused the call (see ErrorFacts.refusal); false for unknown codes. */
export function isRefusal(code: string | undefined): boolean {
  return factsOf(code)?.refusal ?? false;
}

/** A step's retry policy may try again; unknown codes are retryable (as a driver's own errors are). */
export function isRetryable(code: string | undefined): boolean {
  return factsOf(code)?.retryable ?? true;
}

/** The error ends an LLM tool loop at once. */
export function endsRun(code: string | undefined): boolean {
  return factsOf(code)?.endsRun ?? false;
}

/** Exit status of a command-line tool that failed with this code: 2 bad usage or configuration, 1 anything else. */
export function exitStatusOf(code: string | undefined): 1 | 2 {
  return factsOf(code)?.usage === true ? 2 : 1;
}
