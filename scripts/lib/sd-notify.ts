/**
 * A small sd_notify(3) client for running as a systemd service (deploy/llmos.service:
 * Type=notify, WatchdogSec=): READY=1 once booted, STATUS=..., WATCHDOG=1 keep-alive pings and
 * STOPPING=1 at shutdown.
 *
 * Transport: Node has no AF_UNIX datagram sockets and a native addon would need a compiler on
 * the board, so each message is handed to systemd's own `systemd-notify` tool, which is present
 * wherever NOTIFY_SOCKET is set. What follows from that:
 *  - the sender is a child process, so the unit needs NotifyAccess=all (main would drop it);
 *  - systemd-notify (systemd >= 246) waits until the manager has processed the message, so a
 *    sender that exits at once is still attributed to this unit;
 *  - a message costs one short process; pings go out every WATCHDOG_USEC / 2 (2.5 s at
 *    WatchdogSec=5s), and never more than one at a time.
 * With NOTIFY_SOCKET unset, fromEnv() returns undefined: nothing is loaded, no timer runs.
 */

/** Sends one message, given as `NAME=value` fields (and `--pid=N`). Rejects on failure. */
export type NotifySender = (args: readonly string[]) => Promise<void>;

export interface SdNotifyOptions {
  /** NOTIFY_SOCKET: where systemd listens. */
  socket: string;
  /** WATCHDOG_USEC, when systemd expects keep-alive pings from this process. */
  watchdogUsec?: number;
  /** Transport; default: the `systemd-notify` tool. */
  send?: NotifySender;
  log?: (msg: string) => void;
  /** Clock seam (ms) for the ping throttle. */
  now?: () => number;
  pid?: number;
}

export class SdNotify {
  /** Interval between WATCHDOG=1 pings in ms (half of WATCHDOG_USEC), or undefined: no watchdog. */
  readonly pingMs: number | undefined;
  private readonly send: NotifySender;
  private readonly log: (msg: string) => void;
  private readonly now: () => number;
  private readonly pid: number;
  private isReady = false;
  private closed = false;
  private pinging = false;
  private lastPing = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private warned = false;

  /**
   * The notifier systemd asked for, or undefined when not run by systemd (NOTIFY_SOCKET unset).
   * The variables are removed from process.env: NotifyAccess=all trusts every process in the
   * unit, so no other child (a Bash tool, a driver helper) should inherit the socket.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, options: Omit<SdNotifyOptions, 'socket' | 'watchdogUsec'> = {}): SdNotify | undefined {
    const socket = env['NOTIFY_SOCKET'];
    if (!socket) return undefined;
    const pid = options.pid ?? process.pid;
    const usec = Number(env['WATCHDOG_USEC']);
    // sd_watchdog_enabled(3): WATCHDOG_PID, when set, names the process the watchdog is for.
    const forUs = env['WATCHDOG_PID'] === undefined || Number(env['WATCHDOG_PID']) === pid;
    for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[k];
    return new SdNotify({ ...options, socket, pid, ...(Number.isFinite(usec) && usec > 0 && forUs ? { watchdogUsec: usec } : {}) });
  }

  constructor(options: SdNotifyOptions) {
    this.send = options.send ?? systemdNotifyTool(options.socket);
    this.log = options.log ?? ((m) => process.stderr.write(`llmos: ${m}\n`));
    this.now = options.now ?? (() => performance.now());
    this.pid = options.pid ?? process.pid;
    this.pingMs = options.watchdogUsec ? Math.max(1, Math.floor(options.watchdogUsec / 2000)) : undefined;
  }

  /** Start-up is complete: systemd marks the unit active and starts its watchdog. */
  async ready(status?: string): Promise<void> {
    this.isReady = true;
    this.lastPing = this.now();
    await this.message([`--pid=${this.pid}`, 'READY=1', ...statusField(status)]);
  }

  /** One line shown by `systemctl status llmos`. */
  async status(text: string): Promise<void> {
    await this.message(statusField(text));
  }

  /**
   * Keep-alive: sends WATCHDOG=1 when one is due. Call it from a sign of health (the safety
   * watchdog heartbeat); a stalled event loop or a stuck driver write stops the calls, the pings
   * stop with them, and systemd restarts the service after WatchdogSec.
   */
  pet(): void {
    if (this.pingMs === undefined || !this.isReady || this.closed || this.pinging) return;
    const now = this.now();
    if (now - this.lastPing < this.pingMs) return;
    this.lastPing = now;
    this.pinging = true;
    void this.message(['WATCHDOG=1']).finally(() => { this.pinging = false; });
  }

  /**
   * For runs without a safety-watchdog heartbeat (watchdog disabled, virtual time): pet() from a
   * timer on the main event loop, so at least a stalled loop still stops the pings.
   */
  startTimer(): void {
    if (this.pingMs === undefined || this.timer || this.closed) return;
    this.timer = setInterval(() => this.pet(), Math.max(1, Math.floor(this.pingMs / 2)));
    this.timer.unref();
  }

  /**
   * Shutdown has begun: systemd stops watching and waits up to TimeoutStopSec. Waits at most
   * `maxWaitMs` for the message, so a slow manager never delays bringing actuators to rest.
   * Safe to call twice.
   */
  async stopping(status?: string, maxWaitMs = 1000): Promise<void> {
    if (this.closed) return;
    this.close();
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => { timer = setTimeout(resolve, maxWaitMs); });
    await Promise.race([this.message(['STOPPING=1', ...statusField(status)]), cap]);
    clearTimeout(timer);
  }

  /** Stops pinging without telling systemd anything. Safe to call twice. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async message(args: readonly string[]): Promise<void> {
    try {
      await this.send(args);
    } catch (e) {
      // Said once: a missing tool would otherwise repeat at every ping. systemd reports the rest
      // (a start that never becomes ready, a watchdog timeout) in `systemctl status`.
      if (this.warned) return;
      this.warned = true;
      this.log(`cannot notify systemd (${args.filter((a) => !a.startsWith('--')).join(' ')}): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** STATUS= must be one line. */
function statusField(text: string | undefined): string[] {
  return text === undefined ? [] : [`STATUS=${text.replace(/\s*[\r\n]+\s*/g, ' ').trim()}`];
}

/** The default transport: `systemd-notify NAME=value ...` with the socket in its environment. */
export function systemdNotifyTool(socket: string, command = 'systemd-notify'): NotifySender {
  return async (args) => {
    const { execFile } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => {
      // Its barrier waits at most 5 s for the manager; do not let a hung manager pile up processes.
      execFile(command, [...args], { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: 6000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${command}: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
  };
}
