/**
 * Failsafe writers: how the watchdog process, with nothing of the runtime but a description
 * (FailsafeTarget), brings outputs to their safe values. Plain synchronous file writes: no
 * library, no event loop needed, nothing that can hang on the runtime's state.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActuatorValue, FailsafeTarget } from './types.js';

export interface SafeWrite {
  actuator: string;
  channel?: 'left' | 'right';
  value: ActuatorValue;
}

/** Writes every safe value the target can reach; returns what it wrote. Never throws. */
export function writeFailsafe(target: FailsafeTarget, safe: readonly SafeWrite[], reason: string): SafeWrite[] {
  const written: SafeWrite[] = [];
  switch (target.kind) {
    case 'sim-log': {
      const t = Math.round((Date.now() - target.originEpochMs) * 1000) / 1000;
      const lines = safe.map((s) => JSON.stringify({ t, actuator: s.actuator, value: s.value, ...(s.channel ? { channel: s.channel } : {}), source: 'watchdog', reason }));
      try {
        appendFileSync(target.file, `${lines.join('\n')}\n`);
        written.push(...safe);
      } catch { /* nothing more a watchdog can do for a file it cannot write */ }
      break;
    }
    case 'sysfs-gpio':
      for (const line of target.lines) {
        try {
          writeFileSync(join(target.root, `gpio${line.gpio}`, 'value'), String(line.safeLevel));
          written.push({ actuator: line.actuator, ...(line.channel ? { channel: line.channel } : {}), value: line.safeLevel });
        } catch { /* keep going: other pins may still be reachable */ }
      }
      // PWM outputs (motor speed, servos): no pulses at all is the category-0 cut.
      for (const path of target.pwms ?? []) {
        try { writeFileSync(join(path, 'duty_cycle'), '0'); } catch { /* keep going */ }
      }
      break;
  }
  return written;
}
