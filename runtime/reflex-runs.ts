/**
 * Reflexes and the goal in progress: a reflex that refused or stopped a command of one of the
 * goal's runs fails the goal (`onHit` aborts it), so it is never a success to learn from; its
 * events go to the session log with the run they concern.
 */
import { LlmosError } from '../lib/errors.js';
import type { SafetyGate } from '../safety/gate.js';
import type { ReflexEvent } from '../safety/reflex-engine.js';

export class GoalReflexes {
  private readonly runs = new Set<string>();
  private readonly events = new Map<string, ReflexEvent[]>();

  constructor(gate: SafetyGate, onHit: (error: LlmosError) => void) {
    gate.events.on('reflex', (e) => {
      const mine = e.runs.filter((r) => this.runs.has(r));
      for (const r of mine) this.events.set(r, [...(this.events.get(r) ?? []), e]);
      if (mine.length > 0) onHit(new LlmosError('ERR_SAFETY_REFLEX', e.message));
    });
  }

  /** A run of the goal in progress started. */
  add(run: string): void {
    this.runs.add(run);
  }

  /** Fields for the run's session log line. */
  sessionFields(run: string): { reflexes?: ReflexEvent[] } {
    const events = this.events.get(run);
    return events ? { reflexes: events } : {};
  }

  /** The goal ended. */
  clear(): void {
    this.runs.clear();
    this.events.clear();
  }
}
