/**
 * The rate bound every write obeys: no single write moves a channel further than `max_rate`
 * over its update period (two ramp ticks, the most one ramp step may cover), however long the
 * channel has been idle and whatever the first write after boot is. The first write is measured
 * from the value the channel is known to hold (its safe value after open). With `on_rate:
 * reject` a bigger jump is refused; with `ramp` the bank steps there within this bound.
 */
import { LlmosError } from '../lib/errors.js';

/** The smallest step a ramp writes (values keep 4 decimals). */
const QUANTUM = 1e-4;

/** Seconds of change one write may carry at `rate`: the update period, or one quantum's time. */
export function ratePeriodSeconds(rate: number, rampTickMs: number): number {
  return Math.max((2 * rampTickMs) / 1000, rate > 0 ? QUANTUM / rate : 0);
}

/**
 * Throws ERR_SAFETY_RATE when `prev -> value` is faster than `rate`. `prev` undefined means the
 * position is unknown (a `hold` servo before its first write): nothing to measure from.
 */
export function checkRate(key: string, rate: number, prev: number | undefined, value: number, lastWriteAt: number | undefined, now: number, rampTickMs: number): void {
  if (prev === undefined) return;
  const period = ratePeriodSeconds(rate, rampTickMs);
  const dt = lastWriteAt === undefined ? period : Math.min(period, Math.max(0, (now - lastWriteAt) / 1000));
  const allowed = rate * dt;
  if (Math.abs(value - prev) > allowed + 1e-6) {
    const since = lastWriteAt === undefined ? 'as the first write since start' : `in ${((now - lastWriteAt)).toFixed(0)} ms`;
    throw new LlmosError('ERR_SAFETY_RATE', `${key}: change ${prev} -> ${value} ${since} exceeds max_rate ${rate}/s (at most ${Number(allowed.toFixed(4))} per write)`);
  }
}

/** One ramp step from `cur` towards `goal`, rounded to 4 decimals but never past `maxStep`. */
export function rampStep(cur: number, goal: number, maxStep: number): number {
  const dir = Math.sign(goal - cur);
  const raw = cur + dir * maxStep;
  const rounded = dir > 0 ? Math.floor(raw / QUANTUM) * QUANTUM : Math.ceil(raw / QUANTUM) * QUANTUM;
  const r = Number(rounded.toFixed(4));
  // Rounding towards cur may not progress when cur itself is off the 4-decimal grid.
  return dir * (r - cur) > 0 ? r : raw;
}
