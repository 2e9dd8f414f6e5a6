/**
 * Opens the hardware for a board profile and puts the safety gate in front of it. This is the
 * only way the runtime gets at drivers: it receives a gate, never a driver.
 */
import type { Clock } from '../lib/clock.js';
import { openDrivers } from '../drivers/index.js';
import type { SimFaults } from '../drivers/sim.js';
import { SafetyGate, type GateOptions } from './gate.js';

export interface OpenGateOptions extends Omit<GateOptions, 'drivers'> {
  clock: Clock;
  /** --sim-log FILE for simulated drivers. */
  simLogFile?: string;
  simFaults?: SimFaults;
}

export async function openSafetyGate(options: OpenGateOptions): Promise<SafetyGate> {
  const { simLogFile, simFaults, ...gateOptions } = options;
  const drivers = await openDrivers(options.profile, {
    clock: options.clock,
    ...(simLogFile ? { simLogFile } : {}),
    ...(simFaults ? { simFaults } : {}),
  });
  return new SafetyGate({ ...gateOptions, drivers });
}
