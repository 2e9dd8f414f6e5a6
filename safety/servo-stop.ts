/**
 * How a position servo stops (DESIGN.md invariant 10: no stop moves anything faster than its
 * profile allows). Writing its safe angle at once would swing the arm at full servo speed, which
 * is motion, not a stop. Stop category 0 cuts power, which for a servo means no more pulses
 * (released, it goes limp where it is); category 1 is a controlled move to the safe angle at
 * `max_rate`. Where the chosen way is not possible, the other is used; where neither is, the
 * servo is left where it is (no command at all), never jumped.
 */
import type { ActuatorSpec } from '../drivers/types.js';

export type ServoStop = 'ramp' | 'release' | 'leave';

export function servoStop(spec: ActuatorSpec, category: 0 | 1, canRelease: boolean, positionKnown: boolean): ServoStop {
  const canRamp = spec.max_rate !== undefined && typeof spec.safe_value === 'number' && positionKnown;
  if (category === 0) return canRelease ? 'release' : canRamp ? 'ramp' : 'leave';
  return canRamp ? 'ramp' : canRelease ? 'release' : 'leave';
}

/** The value a released servo shows in snapshots, logs and the watchdog's failsafe records. */
export const RELEASED = 'released';
