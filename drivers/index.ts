/**
 * Creates driver instances from a board profile. Real drivers are imported only when the
 * profile uses them: onoff, serialport and johnny-five each cost tens of milliseconds to load,
 * and a simulated board needs none of them.
 *
 * With `twins`, every real driver runs its own code against a simulated twin of its hardware
 * (a fake sysfs tree for GPIO, serialport's mock binding with a scripted controller for serial),
 * and every write is recorded on one timeline (--sim-log): a real board's profile runs on a
 * laptop. The `sim` driver is the simplest such twin.
 */
import type { Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { driverOptions } from './options.js';
import { WriteRecorder } from './recorder.js';
import { SimDriver, type SimFaults } from './sim/sim.js';
import type { ActuatorSpec, BoardProfile, Driver, DriverInstanceSpec, SensorSpec } from './types.js';

export interface DriverContext {
  clock: Clock;
  /** --sim-log FILE: JSON lines of every simulated write. */
  simLogFile?: string;
  /** The clock reading that is t=0 in the sim log (default: when the drivers open). */
  simLogOrigin?: number;
  simFaults?: SimFaults;
  /** --sim-world FILE for the sim driver's room (drivers/sim/sim-world.ts). */
  simWorldFile?: string;
  /** Run real drivers against simulated twins of their hardware. */
  twins?: boolean;
  /** Shared by every twin of one board; created by openDrivers. */
  recorder?: WriteRecorder;
}

type DriverFactory = (spec: DriverInstanceSpec, ctx: DriverContext, profile: BoardProfile) => Promise<Driver>;

const factories: Record<DriverInstanceSpec['type'], DriverFactory> = {
  sim: async (spec, ctx) => new SimDriver({
    name: spec.name,
    clock: ctx.clock,
    ...(ctx.recorder ? { recorder: ctx.recorder } : ctx.simLogFile ? { logFile: ctx.simLogFile } : {}),
    ...(ctx.simFaults ? { faults: ctx.simFaults } : {}),
    ...(ctx.simWorldFile ? { world: (await import('./sim/sim-world.js')).loadSimWorld(ctx.simWorldFile) } : {}),
  }),
  gpio: async (spec, ctx) => {
    const { GpioDriver } = await import('./gpio/gpio.js');
    if (!ctx.twins) return new GpioDriver({ name: spec.name, options: spec.options, clock: ctx.clock });
    const { FakeSysfs, LAYOUTS } = await import('./gpio/twins/fake-sysfs.js');
    const wanted = driverOptions(spec.options).string('twin_layout') ?? 'pi4-6.6';
    if (!Object.hasOwn(LAYOUTS, wanted)) throw new LlmosError('ERR_BOARD_PROFILE', `driver ${spec.name}: twin_layout "${wanted}" is not one of ${Object.keys(LAYOUTS).join(', ')}`);
    const fake = new FakeSysfs({ layout: wanted as keyof typeof LAYOUTS, pwmChips: 3 });
    const driver = new GpioDriver({
      name: spec.name,
      options: { ...spec.options, sysfs_root: fake.gpioRoot, pwm_root: fake.pwmRoot, backend: 'sysfs' },
      clock: ctx.clock,
      kernel: fake,
      ...(ctx.recorder ? { recorder: ctx.recorder } : {}),
    });
    const close = driver.close.bind(driver);
    driver.close = async () => { await close(); fake.remove(); };
    return driver;
  },
  serial: async (spec, ctx, profile) => {
    const { SerialDriver } = await import('./serial/serial.js');
    if (!ctx.twins) return new SerialDriver({ name: spec.name, options: spec.options });
    const { SerialTwin } = await import('./serial/twins/serial-device.js');
    const paths = new Set<string>();
    let delimiter = driverOptions(spec.options).string('delimiter') ?? '\n';
    for (const a of profile.actuators.values()) {
      if (a.driver !== spec.name) continue;
      const p = a.port ?? driverOptions(spec.options).string('port');
      if (p) paths.add(p);
      if (a.delimiter) delimiter = a.delimiter;
    }
    const twin = new SerialTwin([...paths], { delimiter });
    return new SerialDriver({ name: spec.name, options: spec.options, binding: twin.binding, ...(ctx.recorder ? { recorder: ctx.recorder } : {}) });
  },
  // Imported here, not above: johnny-five and firmata-io load only for a board that uses them.
  'johnny-five': async (spec, ctx) => {
    const { JohnnyFiveDriver } = await import('./johnny-five/johnny-five.js');
    if (!ctx.twins && driverOptions(spec.options).raw('io') !== 'mock') return new JohnnyFiveDriver(spec, { clock: ctx.clock });
    // --twins or io: mock: the same driver against the mock Firmata IO (every pin call recorded).
    const { MockFirmataIo } = await import('./johnny-five/twins/j5-mock-io.js');
    return new JohnnyFiveDriver({ ...spec, options: { ...spec.options, io: 'mock' } }, {
      clock: ctx.clock,
      twin: (o) => new MockFirmataIo(o),
      ...(ctx.recorder ? { recorder: ctx.recorder } : {}),
    });
  },
};

function unavailable(spec: DriverInstanceSpec): never {
  throw new LlmosError('ERR_DRIVER_UNAVAILABLE', `driver "${spec.name}" of type ${spec.type} is not available in this build`);
}

/**
 * What a driver declares it cannot drive: the profile's actuators and sensors whose type is not
 * in its capabilities. Checked before the driver claims any hardware.
 */
export function capabilityProblems(driver: Driver, actuators: readonly ActuatorSpec[], sensors: readonly SensorSpec[]): string[] {
  const { actuatorTypes, sensorTypes } = driver.capabilities;
  return [
    ...actuators.filter((a) => !actuatorTypes.includes(a.type)).map((a) => `actuator ${a.name}: a ${driver.type} driver cannot drive ${a.type} actuators (it drives ${actuatorTypes.join(', ')})`),
    ...sensors.filter((x) => !sensorTypes.includes(x.type)).map((x) => `sensor ${x.name}: a ${driver.type} driver cannot read ${x.type} sensors (it reads ${sensorTypes.join(', ') || 'none'})`),
  ];
}

/** Creates one driver without opening it (probes, tests). */
export async function createDriver(spec: DriverInstanceSpec, ctx: DriverContext, profile: BoardProfile): Promise<Driver> {
  return factories[spec.type](spec, ctx, profile);
}

/** Creates and opens one driver per instance the profile declares and uses. */
export async function openDrivers(profile: BoardProfile, ctx: DriverContext): Promise<Map<string, Driver>> {
  const drivers = new Map<string, Driver>();
  const shared: DriverContext = ctx.recorder || !(ctx.twins || ctx.simLogFile) ? ctx : { ...ctx, recorder: new WriteRecorder(ctx.clock, ctx.simLogFile, ctx.simLogOrigin) };
  try {
    for (const spec of profile.drivers.values()) {
      const actuators = [...profile.actuators.values()].filter((a) => a.driver === spec.name);
      const sensors = [...profile.sensors.values()].filter((s) => s.driver === spec.name);
      const usedByEstop = profile.estop?.driver === spec.name;
      if (actuators.length === 0 && sensors.length === 0 && !usedByEstop) continue;
      const driver = await createDriver(spec, shared, profile);
      const recorder = shared.recorder;
      if (recorder && recorder !== ctx.recorder) {
        recorder.retain();
        const close = driver.close.bind(driver);
        let released = false;
        driver.close = async () => {
          try { await close(); } finally { if (!released) { released = true; recorder.release(); } }
        };
      }
      drivers.set(spec.name, driver);
      const problems = capabilityProblems(driver, actuators, sensors);
      if (problems.length > 0) throw new LlmosError('ERR_BOARD_PROFILE', `driver "${spec.name}": ${problems.join('; ')}`);
      await driver.open(actuators, sensors);
    }
  } catch (e) {
    await Promise.allSettled([...drivers.values()].map((d) => d.close()));
    shared.recorder?.close();
    throw e;
  }
  return drivers;
}
