/**
 * The small part of johnny-five 2.x and firmata-io 2.x that drivers/johnny-five/johnny-five.ts uses. Neither
 * package ships types; declaring only what we call keeps the surface we depend on visible.
 */
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';

  export interface BoardOptions {
    io: unknown;
    id?: string;
    repl?: boolean;
    debug?: boolean;
    sigint?: boolean;
    timeout?: number;
  }
  export class Board extends EventEmitter {
    constructor(options: BoardOptions);
    isReady: boolean;
    io: unknown;
    timer: ReturnType<typeof setTimeout> | null;
    register: unknown[];
    static readonly cache: Board[];
    static Pins: { normalize: { clear(): void } };
  }
  interface ComponentOptions { board: Board; id?: string }
  export class Led {
    constructor(options: ComponentOptions & { pin: number | string; isAnode?: boolean });
    on(): this;
    off(): this;
    brightness(value: number): this;
    stop(): this;
    readonly pin: number;
  }
  export class Servo {
    constructor(options: ComponentOptions & { pin: number | string; pwmRange?: [number, number]; invert?: boolean });
    to(degrees: number): this;
    stop(): this;
    readonly pin: number;
  }
  export class Motor {
    constructor(options: ComponentOptions & { pins: { pwm: number | string; dir?: number | string; cdir?: number | string }; threshold?: number; invertPWM?: boolean });
    forward(speed: number): this;
    start(speed: number): this;
    /** 1 = forward, 0 = reverse; the dir pin's current level. */
    readonly direction: { value: number };
    reverse(speed: number): this;
    stop(): this;
  }
  export class Sensor extends EventEmitter {
    constructor(options: ComponentOptions & { pin: number | string; type?: 'analog' | 'digital'; freq?: number });
    /** The current raw reading mapped from 0..resolution onto low..high. */
    fscaleTo(low: number, high: number): number;
    disable(): this;
    readonly raw: number | null;
    readonly resolution: number;
  }
}

declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';

  export class Firmata extends EventEmitter {
    constructor(transport: unknown, options?: { reportVersionTimeout?: number; samplingInterval?: number; skipCapabilities?: boolean });
    isReady: boolean;
    reportVersionTimeoutId: ReturnType<typeof setTimeout> | undefined;
    transport: { isOpen?: boolean; close(cb?: (err?: Error | null) => void): void; removeAllListeners(): void };
    pins: Array<{ supportedModes: number[]; analogChannel: number }>;
    MODES: Record<string, number>;
  }
  interface BindTransport {
    (transport: unknown): typeof Firmata;
    Firmata: typeof Firmata;
  }
  const bindTransport: BindTransport;
  export default bindTransport;
}
