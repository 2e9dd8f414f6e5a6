/**
 * A question handed to the model (run-agentic-follower) may read sensors and state to answer it,
 * never move: while its run lasts, the gate refuses that run's actuation calls (audited like any
 * refusal), whatever the model asks for.
 */
import { LlmosError } from '../../lib/errors.js';
import type { SafetyGate } from '../../safety/gate.js';

/** Restricts the run `runId` to reading when `why` is given; returns what lifts it. */
export function readOnlyRun(gate: SafetyGate, runId: string, why: string | undefined): () => void {
  if (why === undefined) return () => undefined;
  return gate.addHook('pre_tool_use', (call) => {
    if (call.run === runId && call.definition?.kind === 'actuation') throw new LlmosError('ERR_NOT_A_COMMAND', `${call.tool} refused: ${why}`);
    return 'ALLOW';
  });
}
