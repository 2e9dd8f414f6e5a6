/**
 * The in-memory shape of a trace (schemas/trace.schema.json). A trace file may also be in the
 * upstream edge format; the store converts it to this shape on load.
 */
import type { StepCheck } from '../crystallized-api.js';
import type { QuantityKind } from '../matcher/lexicon.js';

/** A check in a trace: what a crystallized function's steps check, plus upstream's validation fields. */
export interface TraceCheck extends StepCheck {
  /** Upstream validation types: content_contains, content_not_empty, command_exit_code, file_exists, file_size_minimum. */
  type?: string;
  check?: string;
  condition?: string;
  validation_type?: string;
}

export type OnErrorAction = 'fail' | 'skip' | 'retry' | 'human_escalate';

export interface OnErrorPolicy {
  action: OnErrorAction;
  retry_count?: number;
  delay_ms?: number;
  delay_seconds?: number;
  escalation_message?: string;
  error_message?: string;
}

export interface TraceStep {
  name: string;
  args: Record<string, unknown>;
  description?: string;
  check?: TraceCheck | TraceCheck[];
  on_error?: OnErrorAction | OnErrorPolicy;
  retries?: number;
}

export interface TraceParameter {
  kind?: QuantityKind;
  unit?: string;
  default?: number;
  minimum?: number;
  maximum?: number;
  description?: string;
}

export interface Trace {
  goal_signature: string;
  goal_text: string;
  success_rate: number;
  usage_count: number;
  success_count?: number;
  created_at?: string;
  last_used?: string | null;
  origin?: 'manual' | 'learned' | 'imported' | 'mixed' | 'taught';
  description?: string;
  tags?: string[];
  trace_id?: string;
  parameters?: Record<string, TraceParameter>;
  preconditions?: TraceCheck[];
  tool_calls: TraceStep[];
  crystallized?: { function: string; file: string; at?: string };
  metadata?: Record<string, unknown>;
}

export interface TraceRecord {
  trace: Trace;
  /** Absolute path of the file. */
  file: string;
  format: 'core' | 'edge';
}

/**
 * What the matcher's index needs of a trace, kept in the trace cache so a start builds the index
 * without reading the trace itself: its signature, its normalised text's fnv32 hash, own weight, and the concepts
 * its text has (`keys`) or its tools imply (`implied`).
 */
export interface IndexSummary {
  sig: string;
  nh: number;
  weight: number;
  keys: string[];
  implied: string[];
}
