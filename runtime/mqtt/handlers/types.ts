/** What a command handler gets: the validated payload, the runtime, and a way to answer. */
import type { LlmosError } from '../../../lib/errors.js';
import type { LLMOS } from '../../llmos.js';

export interface CommandContext {
  os: LLMOS;
  payload: Record<string, unknown>;
  /** run-agentic-follower: MIXED and LEARNER may run when the command asks for them. */
  allowLlm: boolean;
  /** The optional allow-list of goals that may be run remotely. */
  goalAllowed(goal: string): boolean;
  /** Snapshot published on the state topic. */
  state(): Record<string, unknown>;
  reply(result: unknown): void;
  fail(error: LlmosError): void;
  /** v5 message expiry: the epoch ms after which this message is stale (undefined: none). */
  expiresAt?: number;
}

export interface CommandHandler {
  /** The compiled schema of the payload (schemas/mqtt-<name>.schema.json). */
  schema: string;
  /** A repeated id is answered from memory instead of being run again. */
  dedupe: boolean;
  handle(ctx: CommandContext): Promise<void>;
}
