/**
 * `--check-board`: validates a board profile and probes each declared device without moving
 * anything. A device that cannot be probed is reported with the reason; nothing throws.
 */
import { RealClock } from '../lib/clock.js';
import { toLlmosError } from '../lib/errors.js';
import { createDriver } from '../drivers/index.js';
import type { BoardProfile, Driver, ProbeResult } from '../drivers/types.js';
import { loadBoardProfile } from './board-profile.js';

export interface BoardCheckRow extends ProbeResult {
  type: string;
  driver: string;
}

export interface BoardCheckReport {
  ok: boolean;
  board?: string;
  source?: string;
  rows: BoardCheckRow[];
  error?: { code: string; message: string };
}

export async function checkBoard(board: string, options: { twins?: boolean } = {}): Promise<BoardCheckReport> {
  let profile: BoardProfile;
  try {
    profile = loadBoardProfile(board);
  } catch (e) {
    const err = toLlmosError(e, 'ERR_BOARD_PROFILE');
    return { ok: false, rows: [], error: { code: err.code, message: err.message } };
  }
  const rows: BoardCheckRow[] = [];
  for (const spec of profile.drivers.values()) {
    const actuators = [...profile.actuators.values()].filter((a) => a.driver === spec.name);
    const sensors = [...profile.sensors.values()].filter((s) => s.driver === spec.name);
    const describe = (r: ProbeResult): BoardCheckRow => {
      const a = profile.actuators.get(r.name);
      const s = profile.sensors.get(r.name);
      return { ...r, type: a?.type ?? s?.type ?? '?', driver: `${spec.name} (${spec.type})` };
    };
    // Probe without opening: opening claims pins and sets outputs; a probe only looks.
    let driver: Driver | undefined;
    try {
      const single: BoardProfile = { ...profile, drivers: new Map([[spec.name, spec]]), actuators: new Map(actuators.map((a) => [a.name, a])), sensors: new Map(sensors.map((s) => [s.name, s])) };
      driver = await createDriver(spec, { clock: new RealClock(), ...(options.twins ? { twins: true } : {}) }, single);
      let results: ProbeResult[];
      if (driver.probe) {
        results = await driver.probe(actuators, sensors);
      } else {
        await driver.open(actuators, sensors);
        results = [...actuators, ...sensors].map((d) => ({ name: d.name, kind: profile.actuators.has(d.name) ? 'actuator' as const : 'sensor' as const, ok: true, detail: 'opened (driver has no probe)' }));
      }
      rows.push(...results.map(describe));
    } catch (e) {
      const err = toLlmosError(e, 'ERR_DRIVER');
      for (const d of [...actuators, ...sensors]) {
        rows.push(describe({ name: d.name, kind: profile.actuators.has(d.name) ? 'actuator' : 'sensor', ok: false, detail: `${err.code}: ${err.message}` }));
      }
    } finally {
      await driver?.close().catch(() => undefined);
    }
  }
  return { ok: rows.every((r) => r.ok), board: profile.name, source: profile.source, rows };
}
