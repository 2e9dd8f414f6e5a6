/**
 * What a crystallized function receives: its only way to act on the world. Files in
 * crystallized/ import this with `import type` and nothing else; every call goes through the
 * safety gate like any other, with the step's checks and on_error policy.
 *
 *   export async function waveHello(tools: ToolApi, params: WaveHelloParams): Promise<void> {
 *     await tools.call('servo_move', { actuator: 'arm', angle: 140 });
 *   }
 */

/**
 * A check on a step's result or a sensor. Declared here, not imported: this file is the whole
 * API a crystallized function sees and is type-checked on its own; TraceCheck extends it.
 */
export interface StepCheck {
  description?: string;
  sensor?: string;
  min?: number;
  max?: number;
  equals?: number | string | boolean;
  matches?: string;
  type?: string;
  parameters?: Record<string, unknown>;
}

export interface StepOptions {
  check?: StepCheck | StepCheck[];
  on_error?: 'fail' | 'skip' | 'retry' | { action: 'fail' | 'skip' | 'retry' | 'human_escalate'; retry_count?: number; delay_ms?: number };
}

export interface ToolApi {
  /** Calls one tool through the safety gate; resolves with its result. */
  call(tool: string, args: Record<string, unknown>, options?: StepOptions): Promise<unknown>;
  /** Checks a precondition before anything moves. */
  precondition(check: StepCheck | StepCheck[]): Promise<void>;
  /** Aborted on e-stop or shutdown: long loops should stop when it fires. */
  readonly signal: AbortSignal;
}

/** The module shape the loader expects from crystallized/<name>.ts. */
export interface CrystallizedModule {
  /** goal_signature of the source trace. */
  readonly signature: string;
  [fn: string]: unknown;
}
