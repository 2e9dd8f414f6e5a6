/**
 * Wires the out-of-process safety watchdog (watchdog.ts) to the motion controller: what it
 * writes to make each driver safe, whether anything moves, how long a driver write has been
 * stuck, and the controller's alive check before every command write.
 */
import type { ActuatorBank } from './actuators.js';
import { SafetyWatchdog, type WatchdogOptions } from './watchdog.js';

export type WatchdogStart = Pick<WatchdogOptions, 'stallMs' | 'heartbeatMs' | 'onBeat' | 'log'>;

export function watchBank(bank: ActuatorBank, options: WatchdogStart, on: { trip: (reason: string) => void; lost: (reason: string) => void }): SafetyWatchdog {
  const wd = new SafetyWatchdog({
    ...options,
    targets: bank.failsafePlan(),
    isMotionActive: () => bank.motionActive(),
    stuckWriteMs: () => bank.stuckWriteMs(),
    onTrip: on.trip,
    onLost: on.lost,
  });
  bank.setAliveCheck((motion) => wd.assertAlive(motion));
  return wd;
}
