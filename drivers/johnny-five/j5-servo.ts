/**
 * Servos on a Firmata board, commanded in degrees with the pulse range configured on the board.
 *
 * Why not microseconds (johnny-five's Servo): StandardFirmata hands the value to Arduino's
 * `Servo::write(v)`, which reads any v below 544 as an angle in degrees. A servo declared with
 * `pwm_range: [500, 2500]` commanded to 0-3 degrees (500-533 µs) got a 2500 µs pulse: the
 * opposite end. Other servo libraries put that threshold elsewhere (ESP32Servo: 500), so no
 * microsecond value near the bottom of a range is safe everywhere. A value of 0..180 is an angle
 * in every one of them: the range goes to the board once (SERVO_CONFIG, min and max pulse) and
 * the firmware maps each angle into it, so no command can be misread. The cost is 1-degree
 * steps (about 11 µs on a 2000 µs range, the size of a hobby servo's dead band).
 *
 * Arduino's Servo library keeps min and max as signed bytes in 4 µs steps around 544 and
 * 2400 µs; a range outside what fits wraps around (max 1800 µs becomes 2824 µs), so such a
 * range is refused when the board opens, by name.
 */
import { LlmosError } from '../../lib/errors.js';

/** johnny-five's Servo default, kept for profiles without pwm_range. */
export const DEFAULT_PWM_RANGE: readonly [number, number] = [600, 2400];

const SERVO_MODE = 4;

/** What Arduino's Servo library (StandardFirmata) makes of a configured pulse range. */
export function firmwareRange([min, max]: readonly [number, number]): { min: number; max: number; fits: boolean } {
  const minOffset = Math.trunc((544 - min) / 4);
  const maxOffset = Math.trunc((2400 - max) / 4);
  const fits = [minOffset, maxOffset].every((o) => o >= -128 && o <= 127);
  return { min: 544 - minOffset * 4, max: 2400 - maxOffset * 4, fits };
}

/** Why StandardFirmata cannot hold this servo's pulse range; undefined when it can. */
export function servoRangeProblem(range: readonly [number, number] | undefined): string | undefined {
  if (!range) return undefined;
  const [min, max] = range;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min > 0 && min < max)) return `pwm_range [${min}, ${max}] must be two whole microsecond values, min below max`;
  if (!firmwareRange(range).fits) {
    return `pwm_range [${min}, ${max}] µs cannot be set on StandardFirmata (Arduino's Servo library takes a minimum of 36..1056 µs and a maximum of 1892..2912 µs)`;
  }
  return undefined;
}

/** The IO-plugin calls a servo needs (firmata-io and the mock twin). */
export interface ServoIo {
  pinMode(pin: number, mode: number): unknown;
  servoConfig(pin: number, min: number, max: number): unknown;
  servoWrite(pin: number, value: number): unknown;
}

export class FirmataServo {
  private readonly io: ServoIo;
  private readonly pin: number;
  private readonly invert: boolean;

  /** Attaches the servo (the firmware starts pulsing): only on the first command. */
  constructor(io: ServoIo, pin: number, range: readonly [number, number] | undefined, invert: boolean) {
    const problem = servoRangeProblem(range);
    if (problem) throw new LlmosError('ERR_BOARD_PROFILE', `servo on pin ${pin}: ${problem}`);
    this.io = io;
    this.pin = pin;
    this.invert = invert;
    const [min, max] = range ?? DEFAULT_PWM_RANGE;
    io.pinMode(pin, SERVO_MODE);
    io.servoConfig(pin, min, max);
  }

  /** Degrees 0..180 (the profile's range is checked by the gate before this). */
  to(degrees: number): void {
    const d = Math.min(180, Math.max(0, Math.round(degrees)));
    this.io.servoWrite(this.pin, this.invert ? 180 - d : d);
  }
}
