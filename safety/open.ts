/**
 * Opens the hardware for a board profile and puts the safety gate in front of it. This is the
 * only way the runtime gets at drivers: it receives a gate, never a driver.
 */
import type { Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { openDrivers } from '../drivers/index.js';
import type { SimFaults } from '../drivers/sim/sim.js';
import { SafetyGate, type GateOptions } from './gate.js';

export interface OpenGateOptions extends Omit<GateOptions, 'drivers'> {
  clock: Clock;
  /** --sim-log FILE for simulated drivers. */
  simLogFile?: string;
  /** The clock reading that is t=0 in the sim log. */
  simLogOrigin?: number;
  simFaults?: SimFaults;
  /** --sim-world FILE: room, start pose and obstacles of the sim board. */
  simWorldFile?: string;
  /** Run real drivers against simulated twins of their hardware. */
  twins?: boolean;
}

export async function openSafetyGate(options: OpenGateOptions): Promise<SafetyGate> {
  const { simLogFile, simLogOrigin, simFaults, simWorldFile, twins, ...gateOptions } = options;
  const drivers = await openDrivers(options.profile, {
    clock: options.clock,
    ...(simLogFile ? { simLogFile } : {}),
    ...(simLogOrigin !== undefined ? { simLogOrigin } : {}),
    ...(simFaults ? { simFaults } : {}),
    ...(simWorldFile ? { simWorldFile } : {}),
    ...(twins ? { twins } : {}),
  });
  const gate = new SafetyGate({ ...gateOptions, drivers });
  const button = options.profile.estop;
  if (button) {
    // The physical e-stop: pressing it latches the e-stop; only an explicit release clears it.
    const driver = drivers.get(button.driver);
    try {
      if (!driver?.watch) throw new LlmosError('ERR_BOARD_PROFILE', `estop: driver "${button.driver}" cannot watch an input pin`);
      await driver.watch(button, (active) => {
        gate.setEstopInput(`pin ${button.pin}`, active);
        if (active) void gate.engageEstop(`e-stop button (pin ${button.pin}) pressed`, 'button').catch(() => undefined);
      }, (reason) => {
        // Nothing can be heard from the button any more: stop, and say why (and a release
        // cannot be allowed while it might be pressed).
        gate.setEstopInput(`pin ${button.pin} (unreadable)`, true);
        void gate.engageEstop(`e-stop button (pin ${button.pin}) can no longer be read: ${reason}`, 'button').catch(() => undefined);
      });
    } catch (e) {
      await gate.close('e-stop button unavailable');
      throw e;
    }
  }
  return gate;
}
