/**
 * Confirmations for ASK decisions. A request waits for `answer(id, yes)` from the API, CLI or
 * MQTT (cmd/confirm); a timeout, an abort or a shutdown means no.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import { Emitter } from '../lib/emitter.js';

export interface ConfirmRequest {
  id: string;
  tool: string;
  args: Readonly<Record<string, unknown>>;
  source: string;
  run: string;
  reason: string;
  expires_in_ms: number;
}

interface Pending {
  request: ConfirmRequest;
  resolve: (yes: boolean) => void;
  timer: TimerHandle;
}

export class ConfirmationBroker {
  readonly events = new Emitter<{ request: ConfirmRequest; resolved: { id: string; approved: boolean; by: string } }>();
  private readonly pending = new Map<string, Pending>();
  private seq = 0;

  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(clock: Clock, timeoutMs: number) {
    this.clock = clock;
    this.timeoutMs = timeoutMs;
  }

  request(req: Omit<ConfirmRequest, 'id' | 'expires_in_ms'>, signal?: AbortSignal): Promise<boolean> {
    // Unguessable and never reused across restarts: an old or blind confirm cannot approve a
    // request the operator has not seen.
    const id = `confirm-${++this.seq}-${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')}`;
    const request: ConfirmRequest = { ...req, id, expires_in_ms: this.timeoutMs };
    return new Promise<boolean>((resolve) => {
      const finish = (approved: boolean, by: string): void => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        this.clock.clearTimeout(p.timer);
        signal?.removeEventListener('abort', onAbort);
        this.events.emit('resolved', { id, approved, by });
        resolve(approved);
      };
      const onAbort = (): void => finish(false, 'abort');
      const timer = this.clock.setTimeout(() => finish(false, 'timeout'), this.timeoutMs);
      this.pending.set(id, { request, resolve: (yes) => finish(yes, 'operator'), timer });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.events.emit('request', request);
    });
  }

  /** Answers a pending request; false when no such request is waiting. */
  answer(id: string, approved: boolean): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    p.resolve(approved);
    return true;
  }

  list(): ConfirmRequest[] {
    return [...this.pending.values()].map((p) => p.request);
  }

  /** Refuses everything still waiting (shutdown). */
  denyAll(): void {
    for (const id of [...this.pending.keys()]) this.answer(id, false);
  }
}
