/**
 * One owner per physical pin. A board profile may spell a pin several ways ("GPIO24", "BCM24",
 * "024", 24; Firmata "D13", 13, "A0") and may declare several driver instances that reach the
 * same pins (two gpio drivers on one chip, two johnny-five drivers on one port): every use is
 * reduced to one identity, and a pin used twice (an e-stop input shared with an output, two
 * outputs, a motor's direction pin on its own PWM pin, a sensor on an output) is refused, naming
 * both uses.
 */
import type { ActuatorSpec, ChannelSpec, DriverInstanceSpec, SensorSpec } from '../drivers/types.js';

export interface PinUse {
  /** "actuator winch", "sensor bumper", "the e-stop" */
  device: string;
  /** JSON pointer of the field that names the pin. */
  field: string;
  driver: string;
  pin: number | string;
}

/** The physical pin a driver instance reaches with `pin`; undefined when the spelling is not a pin this check knows. */
export function pinIdentity(driver: DriverInstanceSpec | undefined, pin: number | string): string | undefined {
  if (!driver) return undefined;
  const str = (k: string): string => (typeof driver.options[k] === 'string' ? (driver.options[k] as string) : '');
  // Driver instances that reach the same hardware share a namespace.
  const space = driver.type === 'gpio' ? `gpio:${str('chip_label')}`
    : driver.type === 'johnny-five' ? `firmata:${str('port') || driver.name}`
    : `${driver.type}:${driver.name}`;
  const n = normalizePin(pin, driver.type);
  return n === undefined ? undefined : `${space}#${n}`;
}

/** "GPIO24", "BCM 24", "024", " 24 ", 24 -> "24"; Firmata "D13" -> "13", "a0" -> "A0". */
export function normalizePin(pin: number | string, driverType: DriverInstanceSpec['type']): string | undefined {
  if (typeof pin === 'number') return Number.isInteger(pin) && pin >= 0 ? String(pin) : undefined;
  let s = pin.trim().toUpperCase().replace(/\s+/g, '');
  if (driverType === 'johnny-five' && /^A\d+$/.test(s)) return `A${Number(s.slice(1))}`;
  s = s.replace(/^(GPIO|BCM|PIN|D|P)[-_]?(?=\d)/, '');
  return /^\d+$/.test(s) ? String(Number(s)) : undefined;
}

function channelUses(device: string, field: string, driver: string, ch: ChannelSpec | undefined): PinUse[] {
  if (!ch) return [];
  const out: PinUse[] = [];
  for (const k of ['pin', 'dir_pin', 'cdir_pin'] as const) {
    const pin = ch[k];
    if (pin !== undefined) out.push({ device, field: `${field}/${k}`, driver, pin: pin as number | string });
  }
  return out;
}

export function actuatorPinUses(a: ActuatorSpec): PinUse[] {
  const device = `actuator ${a.name}`;
  const field = `/actuators/${a.name}`;
  return [
    ...channelUses(device, field, a.driver, a.channel),
    ...channelUses(device, `${field}/left`, a.driver, a.left),
    ...channelUses(device, `${field}/right`, a.driver, a.right),
  ];
}

export function sensorPinUses(s: SensorSpec): PinUse[] {
  return s.channel.pin === undefined ? [] : [{ device: `sensor ${s.name}`, field: `/sensors/${s.name}/pin`, driver: s.driver, pin: s.channel.pin as number | string }];
}

/** The first pin used twice, as [field, message]; undefined when every pin has one use. */
export function findDoubleUse(uses: readonly PinUse[], drivers: ReadonlyMap<string, DriverInstanceSpec>): [string, string] | undefined {
  const owners = new Map<string, PinUse>();
  for (const u of uses) {
    const id = pinIdentity(drivers.get(u.driver), u.pin);
    if (id === undefined) continue;
    const first = owners.get(id);
    if (first) {
      const where = first.device === u.device ? `its own ${first.field.split('/').slice(3).join('/')}` : `${first.device} (${first.field})`;
      const spelled = String(first.pin) === String(u.pin) ? `pin ${String(u.pin)}` : `pin ${JSON.stringify(u.pin)} (the same pin as ${JSON.stringify(first.pin)})`;
      return [u.field, `${spelled} is also used by ${where}; a pin has one use`];
    }
    owners.set(id, u);
  }
  return undefined;
}
