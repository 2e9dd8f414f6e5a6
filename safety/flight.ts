/**
 * One tool call in flight at the gate: its abort signal is made only when a handler asks for it
 * (ramps, holds, waits), tied to the caller's signal, and an e-stop or reflex aborts it with the
 * reason the call then fails with. The parent's abort listener is always removed (`done`).
 */
import { LlmosError } from '../lib/errors.js';

export /** One call in flight: an abort signal made on demand and tied to the caller's signal. */
class Flight {
  private controller: AbortController | undefined;
  private abortedWith: unknown;
  private readonly parent: AbortSignal | undefined;
  private readonly onParentAbort = (): void => this.abort(this.parent?.reason);

  constructor(parent: AbortSignal | undefined) {
    this.parent = parent;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith);
      else this.parent?.addEventListener('abort', this.onParentAbort, { once: true });
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.abortedWith = reason ?? new LlmosError('ERR_ABORTED', 'aborted');
    this.controller?.abort(this.abortedWith);
  }

  done(): void {
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }

  /** What it was aborted with, if it was. */
  get reason(): unknown {
    return this.abortedWith;
  }
}
