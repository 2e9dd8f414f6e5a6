/**
 * One johnny-five component per actuator (an LED for digital_out and pwm, a Firmata servo, a
 * motor; a differential drive is two motors) and how a checked command value becomes its calls.
 */
import type { Board, Led, Motor } from 'johnny-five';
import { LlmosError } from '../../lib/errors.js';
import type { ActuatorSpec, ActuatorValue } from '../types.js';
import type { FirmataLike } from './j5-firmata-io.js';
import { channelOf } from './j5-pins.js';
import { FirmataServo, type ServoIo } from './j5-servo.js';

export type Component = { kind: 'led'; led: Led; pwm: boolean } | { kind: 'servo'; servo: FirmataServo } | { kind: 'motor'; motor: Motor; invert: boolean };

/** What creating a component needs from the open board; `where` names it in errors. */
export interface ComponentBoard {
  five: typeof import('johnny-five');
  board: Board;
  io: FirmataLike;
  where: string;
}

/** Creates the component for one actuator (or one side of a drive base). Attaching a servo moves it. */
export function createComponent(b: ComponentBoard, spec: ActuatorSpec, side: 'left' | 'right' | undefined): Component {
  const key = side ? `${spec.name}.${side}` : spec.name;
  const { five, board } = b;
  const ch = channelOf(spec, side);
  switch (spec.type) {
    case 'digital_out':
    case 'pwm':
      return { kind: 'led', led: new five.Led({ board, id: key, pin: ch.pin as number }), pwm: spec.type === 'pwm' };
    case 'servo':
      // Degrees, with the pulse range set on the board: see j5-servo.ts for why not µs.
      return { kind: 'servo', servo: new FirmataServo(b.io as unknown as ServoIo, ch.pin as number, ch.pwm_range, ch.invert === true) };
    case 'motor':
    case 'differential_drive': {
      const pins = { pwm: ch.pin as number, ...(ch.dir_pin !== undefined ? { dir: ch.dir_pin } : {}), ...(ch.cdir_pin !== undefined ? { cdir: ch.cdir_pin } : {}) };
      // threshold 0: johnny-five otherwise drops speeds below 30/255 to a stop.
      return { kind: 'motor', motor: new five.Motor({ board, id: key, pins, threshold: 0 }), invert: ch.invert === true };
    }
    default:
      throw new LlmosError('ERR_DRIVER', `${b.where}: ${spec.type} actuators are not supported (${spec.name})`);
  }
}

/** Turns a checked command value into johnny-five calls. */
export function applyValue(c: Component, spec: ActuatorSpec, value: ActuatorValue, where: string): void {
  const n = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
  if (!Number.isFinite(n)) throw new LlmosError('ERR_DRIVER', `${where}: ${spec.name} needs a number, got ${JSON.stringify(value)}`);
  switch (c.kind) {
    case 'led':
      if (!c.pwm) { if (n) c.led.on(); else c.led.off(); }
      else c.led.brightness(Math.round(Math.min(1, Math.max(0, n)) * 255));
      return;
    case 'servo':
      c.servo.to(n);
      return;
    case 'motor': {
      const v = Math.min(1, Math.max(-1, c.invert ? -n : n));
      const speed = Math.round(Math.abs(v) * 255);
      const dir = v > 0 ? 1 : 0;
      if (speed === 0) c.motor.stop();
      // Same direction: only the PWM changes (forward()/reverse() stop the motor first, a glitch on every ramp step).
      else if (c.motor.direction.value === dir) c.motor.start(speed);
      else if (dir === 1) c.motor.forward(speed);
      else c.motor.reverse(speed);
    }
  }
}
