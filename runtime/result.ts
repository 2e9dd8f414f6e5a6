/** What `LLMOS.execute()` returns and `run-follower --json` prints (DESIGN.md "CLI contract"). */

/** STOP and ESTOP: a built-in stop word stopped motion or engaged the e-stop (never a trace). */
export type Mode = 'CRYSTALLIZED' | 'FOLLOWER' | 'MIXED' | 'LEARNER' | 'ORCHESTRATOR' | 'REFUSED' | 'STOP' | 'ESTOP';

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface StepResult {
  index: number;
  tool: string;
  args: Record<string, unknown>;
  ok: boolean;
  skipped?: boolean;
  attempts: number;
  value?: unknown;
  adjusted?: string[];
  error?: ErrorInfo;
  duration_ms: number;
}

export interface NearestTrace {
  trace: string;
  goal_text: string;
  score: number;
  reasons?: string[];
}

export interface ExecutionResult {
  goal: string;
  mode: Mode;
  /** goal_signature of the trace that served the goal, or null. */
  trace: string | null;
  score: number;
  params: Record<string, number>;
  ok: boolean;
  llm_calls: number;
  steps: StepResult[];
  duration_ms: number;
  /** True when --explain decided without executing. */
  explain?: boolean;
  goal_text?: string;
  crystallized?: string;
  parts?: ExecutionResult[];
  nearest?: NearestTrace[];
  /** Why the mode was chosen when it is not the matcher's score (e.g. recalled by embeddings). */
  reason?: string;
  /** The goal as read after typo corrections ("did you mean ..."). */
  did_you_mean?: string;
  /** A trace this run created or updated by learning. */
  learned?: string;
  sentience?: Record<string, unknown>;
  error?: ErrorInfo;
}
