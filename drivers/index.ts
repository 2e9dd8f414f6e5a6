/**
 * Creates driver instances from a board profile. Real drivers are imported only when the
 * profile uses them: onoff, serialport and johnny-five each cost tens of milliseconds to load,
 * and a simulated board needs none of them.
 */
import type { Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { SimDriver, type SimFaults } from './sim.js';
import type { BoardProfile, Driver, DriverInstanceSpec } from './types.js';

export interface DriverContext {
  clock: Clock;
  /** --sim-log FILE: JSON lines of every simulated write. */
  simLogFile?: string;
  simFaults?: SimFaults;
}

type DriverFactory = (spec: DriverInstanceSpec, ctx: DriverContext) => Promise<Driver>;

const factories: Record<DriverInstanceSpec['type'], DriverFactory> = {
  sim: async (spec, ctx) => new SimDriver({
    name: spec.name,
    clock: ctx.clock,
    ...(ctx.simLogFile ? { logFile: ctx.simLogFile } : {}),
    ...(ctx.simFaults ? { faults: ctx.simFaults } : {}),
  }),
  gpio: async (spec) => unavailable(spec),
  serial: async (spec) => unavailable(spec),
  // Imported here, not above: johnny-five and firmata-io load only for a board that uses them.
  'johnny-five': async (spec, ctx) => {
    const { JohnnyFiveDriver } = await import('./johnny-five.js');
    return new JohnnyFiveDriver(spec, { clock: ctx.clock, ...(ctx.simLogFile ? { simLogFile: ctx.simLogFile } : {}) });
  },
};

function unavailable(spec: DriverInstanceSpec): never {
  throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `driver "${spec.name}" of type ${spec.type} is not available in this build`);
}

/** Creates and opens one driver per instance the profile declares and uses. */
export async function openDrivers(profile: BoardProfile, ctx: DriverContext): Promise<Map<string, Driver>> {
  const drivers = new Map<string, Driver>();
  try {
    for (const spec of profile.drivers.values()) {
      const actuators = [...profile.actuators.values()].filter((a) => a.driver === spec.name);
      const sensors = [...profile.sensors.values()].filter((s) => s.driver === spec.name);
      const usedByEstop = profile.estop?.driver === spec.name;
      if (actuators.length === 0 && sensors.length === 0 && !usedByEstop) continue;
      const driver = await factories[spec.type](spec, ctx);
      drivers.set(spec.name, driver);
      await driver.open(actuators, sensors);
    }
  } catch (e) {
    await Promise.allSettled([...drivers.values()].map((d) => d.close()));
    throw e;
  }
  return drivers;
}
