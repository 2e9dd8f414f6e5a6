/**
 * Pin checks for Firmata boards, from the board's own capability report (which modes each pin
 * supports, which pins are analog channels): a profile that puts a servo on a pin without SERVO
 * is refused by name before anything is written.
 */
import { LlmosError } from '../../lib/errors.js';
import type { ActuatorSpec, ChannelSpec, SensorSpec } from '../types.js';
import type { FirmataLike } from './j5-firmata-io.js';
import { servoRangeProblem } from './j5-servo.js';

const MODE = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 } as const;
const MODE_NAMES = ['INPUT', 'OUTPUT', 'ANALOG', 'PWM', 'SERVO'];
const ACTUATOR_TYPES = new Set(['differential_drive', 'servo', 'motor', 'digital_out', 'pwm']);

/** What is wrong with an actuator's pins on this board; empty when nothing. */
export function actuatorPinProblems(io: FirmataLike, spec: ActuatorSpec): string[] {
  if (!ACTUATOR_TYPES.has(spec.type)) return [`${spec.name}: ${spec.type} is not supported by johnny-five here`];
  const sides: Array<'left' | 'right' | undefined> = spec.type === 'differential_drive' ? ['left', 'right'] : [undefined];
  return sides.flatMap((side) => {
    const ch = channelOf(spec, side);
    const label = side ? `${spec.name}.${side}` : spec.name;
    const out: string[] = [];
    const need = spec.type === 'servo' ? MODE.SERVO : spec.type === 'digital_out' ? MODE.OUTPUT : MODE.PWM;
    const p = checkPin(io, ch.pin, need);
    if (p) out.push(`${label}: ${p}`);
    const range = spec.type === 'servo' ? servoRangeProblem(ch.pwm_range) : undefined;
    if (range) out.push(`${label}: ${range}`);
    if (spec.type === 'motor' || spec.type === 'differential_drive') {
      if (ch.dir_pin === undefined && spec.range[0] < 0) out.push(`${label}: dir_pin is required to run backwards (range ${spec.range[0]}..${spec.range[1]})`);
      for (const k of ['dir_pin', 'cdir_pin'] as const) {
        const q = ch[k] === undefined ? undefined : checkPin(io, ch[k], MODE.OUTPUT);
        if (q) out.push(`${label}: ${k} ${q}`);
      }
    }
    return out;
  });
}

export function sensorPinProblem(io: FirmataLike, spec: SensorSpec): string | undefined {
  if (spec.type !== 'analog' && spec.type !== 'digital') return `${spec.name}: ${spec.type} sensors are not supported by johnny-five here`;
  const p = checkPin(io, spec.channel.pin, spec.type === 'analog' ? MODE.ANALOG : MODE.INPUT);
  return p ? `${spec.name}: ${p}` : undefined;
}

/** Undefined when the pin exists and supports the mode; otherwise why not. */
function checkPin(io: FirmataLike, pin: unknown, mode: number): string | undefined {
  if (pin === undefined) return 'no pin declared';
  let index: number;
  if (typeof pin === 'string' && /^A\d+$/.test(pin)) {
    const channel = Number(pin.slice(1));
    index = io.pins.findIndex((p) => p.analogChannel === channel);
    if (index < 0) return `pin ${pin}: the board has no analog channel ${channel}`;
  } else if (typeof pin === 'number') {
    index = pin;
    if (mode === MODE.ANALOG) {
      // A number on an analog sensor is the channel, as johnny-five reads it.
      return io.pins.some((p) => p.analogChannel === pin) ? undefined : `pin ${pin}: the board has no analog channel ${pin}`;
    }
  } else return `pin ${JSON.stringify(pin)} is not a pin number or A<n>`;
  const info = io.pins[index];
  if (!info) return `pin ${String(pin)}: the board reports ${io.pins.length} pins`;
  if (!info.supportedModes.includes(mode)) {
    const has = info.supportedModes.map((m) => MODE_NAMES[m] ?? m).join(', ') || 'none';
    return `pin ${String(pin)} does not support ${MODE_NAMES[mode]} (supports ${has})`;
  }
  return undefined;
}

export function channelOf(spec: ActuatorSpec, side: 'left' | 'right' | undefined): ChannelSpec {
  if (!side) return spec.channel;
  const ch = spec[side];
  if (!ch) throw new LlmosError('ERR_BOARD_PROFILE', `${spec.name}: no ${side} channel declared`);
  return ch;
}

/** "pin 9 dir 8" for the probe table. */
export function describePins(a: ActuatorSpec): string {
  const one = (ch: ChannelSpec): string => [`pin ${String(ch.pin)}`, ch.dir_pin !== undefined ? `dir ${String(ch.dir_pin)}` : '', ch.cdir_pin !== undefined ? `cdir ${String(ch.cdir_pin)}` : '']
    .filter(Boolean).join(' ');
  if (a.type === 'differential_drive') return `left ${one(a.left ?? {})}, right ${one(a.right ?? {})}`;
  return `${one(a.channel)}${a.channel.pwm_range ? ` (${a.channel.pwm_range[0]}-${a.channel.pwm_range[1]} µs)` : ''}`;
}

/**
 * How to make a pin a digital input, with the pull-up for an active-low button. StandardFirmata
 * before 2.5 has no PULLUP mode: there HIGH written to an INPUT turns the pull-up on (`writeHigh`).
 */
export function inputMode(io: FirmataLike, pin: number, pullUp: boolean): { mode: number | undefined; writeHigh: boolean } {
  const native = io.MODES['PULLUP'];
  const hasPullUp = native !== undefined && io.pins[pin]?.supportedModes.includes(native) === true;
  if (pullUp && hasPullUp) return { mode: native, writeHigh: false };
  return { mode: io.MODES['INPUT'], writeHigh: pullUp };
}
