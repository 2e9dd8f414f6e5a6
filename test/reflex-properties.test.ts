/**
 * Invariant 8 as a property: 200 drives in virtual time towards a wall at a random distance
 * (0.1-4 m), speed and heading, on the shipped sim board with its shipped keep-distance rule.
 * None may hit the wall or end closer than 0.30 m; every refusal or stop carries
 * ERR_SAFETY_REFLEX; a drive that ends well clear is never stopped; backing away after a stop
 * works. The checker first proves it can fail: the same drive without the rule collides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VirtualClock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { SimDriver } from '../drivers/sim/sim.js';
import type { SimWorldSpec } from '../drivers/sim/sim-world.js';
import type { BoardProfile } from '../drivers/types.js';
import { MemoryAudit } from '../safety/audit.js';
import { loadBoardProfile } from '../safety/board-profile.js';
import { SafetyGate } from '../safety/gate.js';
import type { ReflexEvent } from '../safety/reflex-engine.js';
import { buildToolCatalog } from '../safety/tools/index.js';

interface Rig { gate: SafetyGate; sim: SimDriver; events: ReflexEvent[]; close(): Promise<void> }

async function rig(profile: BoardProfile, world: SimWorldSpec): Promise<Rig> {
  const clock = new VirtualClock({ auto: true });
  const sim = new SimDriver({ clock, world });
  await sim.open([...profile.actuators.values()], [...profile.sensors.values()]);
  const gate = new SafetyGate({ profile, drivers: new Map([['sim', sim]]), clock, catalog: buildToolCatalog(profile, { systemTools: false }), audit: new MemoryAudit(), deadmanMs: 500 });
  const events: ReflexEvent[] = [];
  gate.events.on('reflex', (e) => events.push(e));
  return { gate, sim, events, close: () => gate.close('test done') };
}

/** Lets virtual time run until the base is at rest (a stop ramps down after its call failed). */
async function atRest(gate: SafetyGate): Promise<void> {
  for (let i = 0; i < 50000; i++) {
    const base = gate.actuatorSnapshot()['base'] as { left: number; right: number };
    if (base.left === 0 && base.right === 0) return;
    await new Promise((res) => setImmediate(res));
  }
  assert.fail('the base did not come to rest');
}

/** A 10 x 10 m room, the rover placed so the +x wall is `d` metres ahead along its heading. */
function facingWall(d: number, headingDeg: number): SimWorldSpec {
  const h = (headingDeg * Math.PI) / 180;
  return { room: { width_m: 10, depth_m: 10 }, start: { x: 5 - d * Math.cos(h), y: -d * Math.sin(h), heading_deg: headingDeg } };
}

const collisions = (sim: SimDriver): number => sim.collisions.length;
const api = { source: 'api' as const, runId: 'prop' };

test('control: without the rule the same drive hits the wall, and the checker sees it', async () => {
  const shipped = loadBoardProfile('sim');
  const bare: BoardProfile = { ...shipped, reflexes: [] };
  const r = await rig(bare, facingWall(1, 20));
  try {
    await r.gate.call({ name: 'drive', args: { distance_m: 2, speed: 0.8 } }, api);
    assert.equal(collisions(r.sim), 1);
    assert.ok(r.sim.world.distanceAhead() < 1e-6);
  } finally {
    await r.close();
  }
});

test('200 random drives towards a wall: no collision, never closer than 0.30 m, every refusal or stop is ERR_SAFETY_REFLEX', async () => {
  const profile = loadBoardProfile('sim');
  const limit = profile.reflexes?.find((x) => x.id === 'keep-distance')?.below ?? NaN;
  assert.equal(limit, 0.3);
  const stats = { refused: 0, stopped: 0, completed: 0 };
  await fc.assert(fc.asyncProperty(
    fc.double({ min: 0.1, max: 4, noNaN: true }),
    fc.double({ min: 0.2, max: 1, noNaN: true }),
    fc.double({ min: -60, max: 60, noNaN: true }),
    fc.double({ min: -0.5, max: 2, noNaN: true }),
    async (wall, speed, heading, beyond) => {
      // Aim somewhere between a little short of the wall and well past it (within max_run_ms).
      const distance = Math.max(0.05, Math.min(wall + beyond, 0.5 * speed * 16));
      const r = await rig(profile, facingWall(wall, heading));
      try {
        let error: unknown;
        try {
          await r.gate.call({ name: 'drive', args: { distance_m: distance, speed } }, api);
        } catch (e) {
          error = e;
        }
        await atRest(r.gate);
        const left = r.sim.world.distanceAhead();
        assert.equal(collisions(r.sim), 0, 'no collision');
        assert.ok(left >= Math.min(wall, limit) - 1e-6, `ended ${left.toFixed(3)} m from the wall (started ${wall.toFixed(3)})`);
        if (error !== undefined) {
          assert.ok(error instanceof LlmosError && error.code === 'ERR_SAFETY_REFLEX', `a refusal or stop is ERR_SAFETY_REFLEX, got ${String(error)}`);
          assert.ok(r.events.length > 0 && r.events.every((e) => e.code === 'ERR_SAFETY_REFLEX' && e.rule === 'keep-distance'));
          if (r.events.some((e) => e.kind === 'refused')) stats.refused++; else stats.stopped++;
          // Backing away after a refusal or a stop works.
          await r.gate.call({ name: 'drive', args: { distance_m: -0.2, speed } }, api);
          await atRest(r.gate);
          assert.ok(r.sim.world.distanceAhead() > left + 0.1, 'backed away');
        } else {
          stats.completed++;
          assert.equal(r.events.length, 0, 'a completed drive saw no reflex');
        }
        // A drive that stays well clear of the limit is never refused or stopped.
        if (wall - distance > limit + 0.5 * speed * 1.2 + 0.05) assert.equal(error, undefined, `a drive ending ${(wall - distance).toFixed(2)} m from the wall was stopped`);
      } finally {
        await r.close();
      }
    },
  ), { numRuns: 200, verbose: 1 });
  // The generator reaches every outcome (otherwise the property says little).
  assert.ok(stats.refused > 0 && stats.stopped > 0 && stats.completed > 0, JSON.stringify(stats));
});
