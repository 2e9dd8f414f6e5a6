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

/** Sliding one-second window of accepted commands per actuator. */
export class CommandRateLimiter {
  private readonly history = new Map<string, number[]>();

  private readonly defaultPerSecond: number;

  constructor(defaultPerSecond: number) {
    this.defaultPerSecond = defaultPerSecond;
  }

  admit(actuator: string, limit: number | undefined, now: number): void {
    const max = limit ?? this.defaultPerSecond;
    let times = this.history.get(actuator);
    if (!times) { times = []; this.history.set(actuator, times); }
    while (times.length > 0 && now - (times[0] as number) >= 1000) times.shift();
    if (times.length >= max) {
      throw new LlmosError('ERR_SAFETY_RATE_LIMIT', `${actuator}: more than ${max} commands in one second; slow down`);
    }
    times.push(now);
  }
}
