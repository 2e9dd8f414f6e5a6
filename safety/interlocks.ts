/**
 * Interlocks and per-actuator command rate limits: the rules that depend on the state of other
 * actuators or on recent history rather than on the command alone.
 */
import { LlmosError } from '../lib/errors.js';
import type { BoardProfile, InterlockSpec } from '../drivers/types.js';
import type { ActuatorBank } from './actuators.js';

function holds(when: InterlockSpec['when'], level: number | undefined, active: boolean): boolean {
  if (when.active !== undefined && when.active !== active) return false;
  if (when.above !== undefined && !(level !== undefined && Math.abs(level) > when.above)) return false;
  if (when.below !== undefined && !(level !== undefined && level < when.below)) return false;
  if (when.equals !== undefined) {
    const eq = typeof when.equals === 'boolean' ? (level ?? 0) === (when.equals ? 1 : 0) : level === when.equals;
    if (!eq) return false;
  }
  return true;
}

/**
 * Refuses a command that would create a forbidden combination: moving an actuator that an
 * interlock forbids while its condition holds, or making the condition hold while a forbidden
 * actuator is moving.
 */
export function checkInterlocks(
  profile: BoardProfile, bank: ActuatorBank, actuator: string, target: { level: number; active: boolean },
): void {
  for (const il of profile.interlocks) {
    if (target.active && il.forbid.includes(actuator) && il.when.actuator !== actuator) {
      if (holds(il.when, bank.level(il.when.actuator), bank.isActive(il.when.actuator))) {
        throw new LlmosError('ERR_SAFETY_INTERLOCK', `${actuator} is locked out by interlock "${il.id}": ${il.reason}`, { interlock: il.id });
      }
    }
    if (il.when.actuator === actuator && holds(il.when, target.level, target.active)) {
      const moving = il.forbid.filter((f) => f !== actuator && bank.isActive(f));
      if (moving.length > 0) {
        throw new LlmosError('ERR_SAFETY_INTERLOCK', `${actuator} cannot do that while ${moving.join(', ')} ${moving.length > 1 ? 'are' : 'is'} active (interlock "${il.id}": ${il.reason})`, { interlock: il.id });
      }
    }
  }
}

/** Sliding one-second window of accepted commands per actuator, in O(1) per command. */
export class CommandRateLimiter {
  /** Per actuator: a ring of the last `limit` accepted command times. */
  private readonly rings = new Map<string, { times: Float64Array; next: number; count: number }>();
  private readonly defaultPerSecond: number;

  constructor(defaultPerSecond: number) {
    this.defaultPerSecond = defaultPerSecond;
  }

  admit(actuator: string, limit: number | undefined, now: number): void {
    const max = Math.max(1, Math.floor(Math.min(limit ?? this.defaultPerSecond, MAX_COMMANDS_PER_SECOND)));
    let ring = this.rings.get(actuator);
    if (!ring || ring.times.length !== max) {
      ring = { times: new Float64Array(max), next: 0, count: 0 };
      this.rings.set(actuator, ring);
    }
    // With the ring full, its oldest entry is the max-th most recent command.
    if (ring.count === max && now - (ring.times[ring.next] as number) < 1000) {
      throw new LlmosError('ERR_SAFETY_RATE_LIMIT', `${actuator}: more than ${max} commands in one second; slow down`);
    }
    ring.times[ring.next] = now;
    ring.next = (ring.next + 1) % max;
    if (ring.count < max) ring.count++;
  }
}

/** Above this a per-second command limit means nothing for hardware; it also bounds memory. */
export const MAX_COMMANDS_PER_SECOND = 10000;
