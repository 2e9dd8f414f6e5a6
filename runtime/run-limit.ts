/**
 * Every run has a wall-time limit. `safety.run_limit_ms` sets it for all runs; otherwise it is
 * derived from the run's own steps: each step's nominal duration (a drive's distance at its
 * speed, a wait's ms, a servo's sweep at its rate) with room for a halved speed scale, plus a
 * fixed allowance per step (and the confirmation timeout where hooks may ask). LLM tool loops
 * (MIXED, LEARNER) are bounded by their wall-time budget (budget.wall_ms_per_goal) instead.
 */
import { RealClock, type Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import type { BoardProfile } from '../drivers/types.js';
import type { ToolCall } from '../safety/gate.js';
import { toolNamed } from '../safety/tools/index.js';
import type { RuntimeConfig } from './config.js';
import type { Decision } from './dispatcher.js';

/** Per step: start-up, driver latency, ramps; generous on a loaded machine. */
const STEP_ALLOWANCE_MS = 10000;

export function runLimitMs(decision: Decision, config: RuntimeConfig, profile: BoardProfile): number | undefined {
  if (config.safety.run_limit_ms !== undefined) return config.safety.run_limit_ms;
  return derived(decision, config, profile);
}

function derived(decision: Decision, config: RuntimeConfig, profile: BoardProfile): number | undefined {
  switch (decision.mode) {
    case 'FOLLOWER':
    case 'CRYSTALLIZED': {
      const asks = config.safety.hooks.some((h) => h.decision === 'ASK');
      const perStep = STEP_ALLOWANCE_MS + (asks ? config.safety.confirm_timeout_ms : 0);
      const scale = Math.max(0.05, config.safety.speed_scale) / 2;
      return (decision.calls ?? []).reduce((sum, c) => sum + perStep + nominalMs(c, profile) / scale, 0);
    }
    case 'ORCHESTRATOR': {
      let sum = 0;
      for (const part of decision.parts ?? []) {
        const ms = derived(part, config, profile);
        if (ms === undefined) return undefined;
        sum += ms;
      }
      return sum;
    }
    default:
      return undefined;
  }
}

/** How long a call takes at full speed scale: the tool's own nominalMs (0 for calls without a duration). */
function nominalMs(call: ToolCall, profile: BoardProfile): number {
  const a = call.args;
  const spec = typeof a['actuator'] === 'string' ? profile.actuators.get(a['actuator']) : [...profile.actuators.values()].find((s) => s.type === 'differential_drive');
  return toolNamed(call.name)?.nominalMs?.(a, spec) ?? 0;
}

/**
 * Aborts the run's controller with ERR_TIME_LIMIT once `limit` ms have passed; returns the disarm.
 * In simulated time a timer would fire whenever the run waits on something else (files, a
 * person), so there the limit is checked after every step instead (each step is itself bounded
 * by safety.max_step_ms).
 */
export function armRunLimit(limit: number | undefined, run: { clock: Clock; controller: AbortController; started: number; onStep: (f: () => void) => () => void }): () => void {
  if (limit === undefined) return () => undefined;
  const { clock, controller, started } = run;
  const over = (): void => {
    if (!controller.signal.aborted) controller.abort(new LlmosError('ERR_TIME_LIMIT', `the run used its wall-time limit of ${Math.round(limit)} ms (safety.run_limit_ms; by default derived from its steps)`));
  };
  if (clock instanceof RealClock) {
    const timer = clock.setTimeout(over, limit);
    return () => clock.clearTimeout(timer);
  }
  return run.onStep(() => { if (clock.now() - started > limit) over(); });
}
