/**
 * Notices a silent broker (frozen, or a link that died without a TCP reset) within the
 * broker-loss window itself. MQTT keepalive alone notices it only after 1.5 keepalive intervals,
 * and the keepalive is kept at 5 s or more so a busy event loop is not taken for a dead link;
 * the loss window would then start only after that. Instead every packet from the broker counts
 * as a sign of life; after half a window of silence we ask (PINGREQ), and a whole window with
 * nothing heard is a lost broker, measured from the last packet, not from the disconnect.
 */
export interface LivenessOptions {
  windowMs: number;
  /** Sends a PINGREQ (the broker answers with PINGRESP, a packet heard). */
  ping: () => void;
  isConnected: () => boolean;
  /** Silent for the whole window while connected; called once per silence. */
  onSilent: (silentMs: number) => void;
}

export class LinkLiveness {
  private readonly options: LivenessOptions;
  private lastHeard = Date.now();
  private reported = false;
  private pinged = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: LivenessOptions) {
    this.options = options;
  }

  /** A packet arrived from the broker. */
  heard(): void {
    this.lastHeard = Date.now();
    this.reported = false;
    this.pinged = false;
  }

  /** Milliseconds since the broker was last heard. */
  silentFor(): number {
    return Date.now() - this.lastHeard;
  }

  /** How much of the window is left after a disconnect (the window started at the last packet). */
  remainingMs(): number {
    return Math.max(0, this.options.windowMs - this.silentFor());
  }

  start(): void {
    if (this.timer) return;
    const every = Math.max(20, Math.floor(this.options.windowMs / 8));
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  private check(): void {
    if (!this.options.isConnected() || this.reported) return;
    const silent = this.silentFor();
    if (silent > this.options.windowMs / 2 && !this.pinged) {
      this.pinged = true;
      this.options.ping();
    }
    if (silent <= this.options.windowMs) return;
    // After a stall of our own loop the answer may sit unread in the socket: let the I/O phase
    // read it first, then decide.
    setImmediate(() => {
      const still = this.silentFor();
      if (this.reported || !this.options.isConnected() || still <= this.options.windowMs) return;
      this.reported = true;
      this.options.onSilent(still);
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
