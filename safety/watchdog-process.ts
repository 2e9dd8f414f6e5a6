/**
 * The safety watchdog: a separate process with its own access to the hardware (FailsafeTarget).
 * The runtime sends it a heartbeat over IPC. When the heartbeats stop while something is moving
 * (an endless loop in a crystallized function, a driver call that blocks the event loop), or the
 * runtime process dies (killed, crashed), it writes every safe value it can reach. It depends on
 * nothing in the runtime's event loop, so it works exactly when the runtime cannot.
 *
 * It runs in its own session and ignores SIGINT, SIGHUP and SIGTERM: a terminal's Ctrl-C or
 * hang-up, or a stop sent to the runtime's group, must not take it down with the runtime before
 * the runtime has stopped. It exits on the runtime's orderly `stop`, or after writing every safe
 * value when the runtime is gone (its IPC channel closed, or it is no longer our parent).
 */
import { writeFailsafe, type SafeWrite } from '../drivers/failsafe.js';
import type { FailsafeTarget } from '../drivers/types.js';

export type ToWatchdog =
  | { type: 'init'; stallMs: number; checkMs: number; targets: Array<{ target: FailsafeTarget; safe: SafeWrite[] }> }
  | { type: 'beat'; active: boolean }
  | { type: 'rearm' }
  | { type: 'stop' };

export type FromWatchdog =
  | { type: 'ready'; pid: number }
  | { type: 'tripped'; reason: string; wrote: number };

let stallMs = 500;
let targets: Array<{ target: FailsafeTarget; safe: SafeWrite[] }> = [];
let lastBeat = Date.now();
let active = false;
let tripped = false;
let stopping = false;
let timer: NodeJS.Timeout | undefined;
const parent = process.ppid;

for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) process.on(signal, () => undefined);
// Its stderr may be a terminal that closes: nothing to report there is worth dying for.
process.stderr.on('error', () => undefined);

function send(msg: FromWatchdog): void {
  try { process.send?.(msg); } catch { /* the runtime is gone */ }
}

function trip(reason: string): void {
  tripped = true;
  let wrote = 0;
  for (const { target, safe } of targets) wrote += writeFailsafe(target, safe, reason).length;
  send({ type: 'tripped', reason, wrote });
}

process.on('message', (raw: unknown) => {
  const msg = raw as ToWatchdog;
  switch (msg.type) {
    case 'init':
      stallMs = msg.stallMs;
      targets = msg.targets;
      lastBeat = Date.now();
      clearInterval(timer);
      timer = setInterval(() => {
        // The runtime died without its channel telling us (belt and braces for 'disconnect').
        if (!stopping && process.ppid !== parent) gone('runtime process ended (parent changed)');
        const silent = Date.now() - lastBeat;
        if (!stopping && !tripped && active && silent > stallMs) trip(`runtime event loop silent for ${silent} ms while moving`);
      }, msg.checkMs);
      send({ type: 'ready', pid: process.pid });
      break;
    case 'beat':
      lastBeat = Date.now();
      active = msg.active;
      break;
    case 'rearm':
      tripped = false;
      lastBeat = Date.now();
      break;
    case 'stop':
      stopping = true;
      clearInterval(timer);
      process.disconnect?.();
      process.exit(0);
  }
});

function gone(reason: string): void {
  if (!stopping) trip(reason);
  process.exit(0);
}

// The runtime process ended without saying goodbye (SIGKILL, crash): make everything safe.
process.on('disconnect', () => gone('runtime process ended unexpectedly'));
// A fault of our own: still try every safe value before going.
process.on('uncaughtException', () => gone('safety watchdog process fault'));
