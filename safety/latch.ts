/**
 * The one latch state the gate and the motion controller share (DESIGN.md invariant 5). It holds
 * whether the e-stop is engaged and why, and the error every write but a stop is refused with:
 * the e-stop's, or a halt's (shutdown begun, a failsafe exit) where no e-stop holds it. Only an
 * explicit release (the gate's `releaseEstop`) clears it; the persisted copy is estop-latch.ts.
 */
import type { LlmosError } from '../lib/errors.js';

export class SafetyLatch {
  private refusalError: LlmosError | undefined;
  private estopText: string | undefined;

  /** Why a write (other than a stop) is refused now; undefined while nothing is latched. */
  get refusal(): LlmosError | undefined {
    return this.refusalError;
  }

  /** The engaged e-stop's reason; undefined while the e-stop is not engaged. */
  get estopReason(): string | undefined {
    return this.estopText;
  }

  /** Engages the e-stop: its error is what every refused write reports from now on. */
  engage(reason: string, error: LlmosError): void {
    this.estopText = reason;
    this.refusalError = error;
  }

  /**
   * Latches without an e-stop (nothing new moves). `keep`: leave an error already latched in
   * place (shutdown keeps an e-stop's reason); otherwise this one is reported from now on.
   */
  halt(error: LlmosError, keep = false): void {
    if (keep && this.refusalError) return;
    this.refusalError = error;
  }

  /** Clears the e-stop and any halt: motion stays stopped until a new command. */
  release(): void {
    this.estopText = undefined;
    this.refusalError = undefined;
  }
}
