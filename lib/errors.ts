/**
 * Every error the runtime raises carries a stable `code` (like Node's ERR_*) and a message a
 * person can act on. The table below is the one place the codes are defined; README.md lists
 * them for users. Codes name the layer: CONFIG, BOARD, TRACE, MATCH, TOOL, SAFETY, ESTOP, ...
 */
export const ERROR_CODES = {
  ERR_USAGE: 'bad command-line usage (unknown flag, missing value)',
  ERR_CONFIG_INVALID: 'the configuration file or an override failed its schema',
  ERR_CONFIG_NOT_FOUND: 'a configuration, board or trace path does not exist',
  ERR_BOARD_PROFILE: 'the board profile is malformed or inconsistent',
  ERR_TRACE_INVALID: 'a trace file failed the trace schema',
  ERR_TRACE_WRITE: 'a trace could not be written',
  ERR_TRACE_NOT_FOUND: 'no trace has that signature',
  ERR_TRACE_CONFLICT: 'an import would overwrite a different existing trace or crystallized function',
  ERR_BUNDLE_INVALID: 'a trace bundle is malformed: manifest, file list or a file inside failed validation',
  ERR_BUNDLE_CHECKSUM: 'a file in a trace bundle does not match its sha256 in the manifest',
  ERR_NO_MATCH: 'no learned trace fits the goal well enough for a deterministic run',
  ERR_NOT_A_COMMAND: 'the goal is a question, a statement or a conditional/deferred goal: only commands run (say it as an order)',
  ERR_PARAM_UNBOUND: 'a trace parameter has no value from the goal and no default',
  ERR_TOOL_UNKNOWN: 'the tool is not in the board\'s tool set',
  ERR_TOOL_DISABLED: 'the tool exists but the configuration disables it',
  ERR_TOOL_ARGS: 'the tool arguments are malformed',
  ERR_ACTUATOR_UNKNOWN: 'the board profile declares no such actuator (or not of that type)',
  ERR_SENSOR_UNKNOWN: 'the board profile declares no such sensor',
  ERR_SAFETY_RANGE: 'a value is outside the actuator\'s declared range',
  ERR_SAFETY_RATE: 'a change is faster than the actuator\'s maximum rate of change',
  ERR_SAFETY_RUNTIME: 'a motion would run longer than the actuator\'s maximum continuous run time',
  ERR_SAFETY_RATE_LIMIT: 'too many commands to one actuator per second',
  ERR_SAFETY_INTERLOCK: 'an interlock declared in the board profile forbids the command now',
  ERR_SAFETY_SERIAL_LINE: 'the serial line is not on the device\'s allow-list',
  ERR_SAFETY_SYSTEM_TOOL: 'a system tool call was blocked (path outside the workspace, destructive command)',
  ERR_SAFETY_REFLEX: 'a reflex rule of the board profile refused the command or stopped the motion (a sensor reads a limit, or stopped answering)',
  ERR_SAFETY_WATCHDOG: 'the watchdog tripped; actuators were brought to their safe values',
  ERR_DEADMAN: 'a motion was not refreshed within its deadman window and was stopped',
  ERR_ESTOP_ENGAGED: 'the emergency stop is engaged; release it explicitly to move again',
  ERR_ESTOP_INPUT_ACTIVE: 'a release was refused because an e-stop input (button) is still active',
  ERR_HOOK_BLOCKED: 'a pre_tool_use hook blocked the call',
  ERR_CONFIRM_DENIED: 'the call needed a confirmation that was refused or timed out',
  ERR_BUDGET_EXCEEDED: 'an LLM budget (calls, tokens, wall time) is used up',
  ERR_STEP_FAILED: 'a trace step failed and its on_error policy stopped the run',
  ERR_CHECK_FAILED: 'a step ran but its check did not pass',
  ERR_ABORTED: 'the run was aborted (e-stop, shutdown or a signal)',
  ERR_TIME_LIMIT: 'a run or a step could not finish within its wall-time limit (safety.run_limit_ms, safety.max_step_ms); it was stopped or refused',
  ERR_DRIVER: 'a driver failed to open, read or write',
  ERR_DRIVER_UNAVAILABLE: 'the driver\'s hardware or library is not present on this machine',
  ERR_STATE: 'a state file could not be read or written',
  ERR_PATH_UNUSABLE: 'a path for state, logs, the sim log, a board or a config is not a usable file or directory (a device, /proc, unwritable)',
  ERR_OWNER_BUSY: 'another runtime process owns this state directory (its lock is held); stop it, send goals to it (leave out --standalone), or use another --state',
  ERR_OWNER_MISMATCH: 'a command sent to the running owner asks for another board, traces directory or setting than the owner runs with',
  ERR_OWNER_LOST: 'the runtime that owns the state directory stopped before answering a forwarded command',
  ERR_EXPIRED: 'the deadline of a command passed before it could start; it was not executed',
  ERR_TRACE_BOARD_MISMATCH: 'the learned trace uses a tool, actuator or sensor this board does not have',
  ERR_FACTS_FULL: 'the facts store is full',
  ERR_DRIVER_DISCONNECTED: 'the device was unplugged or its board was lost mid-run (serial devices reconnect by themselves)',
  ERR_SERIAL_TIMEOUT: 'a serial device did not answer in time',
  ERR_CRYSTALLIZED_INVALID: 'a crystallized function failed to load or imports something other than types',
  ERR_CRYSTALLIZED_UNTRUSTED: 'a crystallized file is neither what the generator emits for its trace nor pinned by the operator; none of its code was loaded',
  ERR_TOOL_REVOKED: 'a crystallized function called its tool API after its run ended (or was aborted); nothing moved',
  ERR_LEARN_REJECTED: 'a run was not saved as a trace: it failed a learning check',
  ERR_LLM_UNAVAILABLE: 'the Ollama server could not be reached or timed out',
  ERR_LLM_BAD_OUTPUT: 'the model answered with something that is not a usable tool call',
  ERR_LLM_DISABLED: 'an LLM mode was needed but this command or mode forbids LLM calls',
  ERR_MQTT: 'the MQTT connection or a payload failed',
  ERR_INTERNAL: 'a bug: please report it with the log',
} as const;

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
