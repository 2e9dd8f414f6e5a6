/**
 * Budgets for LLM-originated work: calls, tokens and wall time per goal and per hour. The gate
 * checks the goal's budget before every LLM tool call; the executors charge every model call.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../lib/atomic-file.js';
import type { Clock } from '../../lib/clock.js';
import { LlmosError } from '../../lib/errors.js';
import type { BudgetConfig } from '../config.js';
import type { BudgetGuard } from '../../safety/gate.js';

/**
 * The last hour of LLM use, across goals and across processes: with a file, each use is kept in
 * it (wall-clock times, rewritten atomically), so one-shot `run-agentic-follower` calls from a
 * script or cron share one hourly budget instead of each starting from zero.
 */
export class HourlyLedger {
  private entries: Array<{ t: number; calls: number; tokens: number }> = [];
  private readonly clock: Clock;
  private readonly file: string | undefined;

  constructor(clock: Clock, file?: string) {
    this.clock = clock;
    this.file = file;
    this.reload();
  }

  /** Other processes' use since we last looked (the file is the shared truth). */
  private reload(): void {
    if (!this.file) return;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (Array.isArray(raw)) {
        this.entries = raw.filter((e): e is { t: number; calls: number; tokens: number } =>
          !!e && typeof e === 'object' && [e.t, e.calls, e.tokens].every((n) => typeof n === 'number' && Number.isFinite(n)));
      }
    } catch { /* none yet, or unreadable: keep what this process knows */ }
  }

  private now(): number {
    // Wall time when shared through a file (processes do not share a monotonic clock).
    return this.file ? this.clock.wallNow().getTime() : this.clock.now();
  }

  add(calls: number, tokens: number): void {
    // Read, add, write: a use recorded by another process meanwhile is kept, not overwritten.
    this.reload();
    this.entries.push({ t: this.now(), calls, tokens });
    this.prune();
    if (this.file) {
      try { writeFileAtomicSync(this.file, JSON.stringify(this.entries)); } catch { /* the in-memory ledger still counts */ }
    }
  }

  private prune(): void {
    const since = this.now() - 3600_000;
    while (this.entries.length > 0 && (this.entries[0] as { t: number }).t < since) this.entries.shift();
  }

  totals(): { calls: number; tokens: number } {
    this.reload();
    this.prune();
    let calls = 0;
    let tokens = 0;
    for (const e of this.entries) { calls += e.calls; tokens += e.tokens; }
    return { calls, tokens };
  }
}

export class GoalBudget implements BudgetGuard {
  calls = 0;
  tokens = 0;
  private readonly started: number;
  private readonly clock: Clock;
  private readonly config: BudgetConfig;
  private readonly ledger: HourlyLedger;

  constructor(config: BudgetConfig, clock: Clock, ledger: HourlyLedger) {
    this.config = config;
    this.clock = clock;
    this.ledger = ledger;
    this.started = clock.now();
  }

  /** Throws ERR_BUDGET_EXCEEDED when any limit is reached. */
  check(): void {
    const c = this.config;
    const elapsed = this.clock.now() - this.started;
    if (elapsed > c.wall_ms_per_goal) throw new LlmosError('ERR_BUDGET_EXCEEDED', `the goal used its wall-time budget (${c.wall_ms_per_goal} ms)`);
    if (this.tokens >= c.tokens_per_goal) throw new LlmosError('ERR_BUDGET_EXCEEDED', `the goal used its token budget (${c.tokens_per_goal})`);
    const hour = this.ledger.totals();
    if (hour.calls >= c.llm_calls_per_hour) throw new LlmosError('ERR_BUDGET_EXCEEDED', `the hourly LLM call budget (${c.llm_calls_per_hour}) is used up`);
    if (hour.tokens >= c.tokens_per_hour) throw new LlmosError('ERR_BUDGET_EXCEEDED', `the hourly token budget (${c.tokens_per_hour}) is used up`);
  }

  /** Before a model call: there must be a call left in this goal's budget. */
  beforeCall(): void {
    this.check();
    if (this.calls >= this.config.llm_calls_per_goal) throw new LlmosError('ERR_BUDGET_EXCEEDED', `the goal used its LLM call budget (${this.config.llm_calls_per_goal} calls)`);
  }

  charge(tokens: number): void {
    this.calls += 1;
    this.tokens += tokens;
    this.ledger.add(1, tokens);
  }

  /** Time left for this goal, for the model call's own deadline (whole ms: timers want integers). */
  remainingMs(): number {
    return Math.max(0, Math.ceil(this.config.wall_ms_per_goal - (this.clock.now() - this.started)));
  }
}
