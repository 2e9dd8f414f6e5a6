/**
 * A step that cannot finish within its bound is refused before it moves (DESIGN.md: every run
 * has a wall-time limit). A ramp at a vanishing rate (servo_move speed_dps 1e-300) or a hold of
 * years would otherwise never end, in real or virtual time, and goals would queue behind it.
 */
import { LlmosError } from '../lib/errors.js';

/** Throws ERR_TIME_LIMIT when moving from `cur` to `goal` at `rate` units/s takes longer than `boundMs`. */
export function assertMoveFinishes(name: string, moves: ReadonlyArray<{ cur: number | undefined; goal: number }>, rate: number, boundMs: number | undefined): void {
  if (boundMs === undefined) return;
  let need = 0;
  for (const { cur, goal } of moves) if (cur !== undefined) need = Math.max(need, (Math.abs(goal - cur) / rate) * 1000);
  if (!(need <= boundMs)) {
    throw new LlmosError('ERR_TIME_LIMIT', `${name}: this move would take ${Number.isFinite(need) ? `${Math.round(need)} ms` : 'forever'} at ${rate}/s, more than one step may take (safety.max_step_ms ${boundMs} ms); nothing moved`);
  }
}

/** Throws ERR_TIME_LIMIT when a hold of `ms` is longer than one step may take. */
export function assertHoldFinishes(name: string, ms: number, boundMs: number | undefined): void {
  if (boundMs !== undefined && !(ms <= boundMs)) {
    throw new LlmosError('ERR_TIME_LIMIT', `${name}: this motion would last ${Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'forever'}, more than one step may take (safety.max_step_ms ${boundMs} ms); nothing moved`);
  }
}
