/**
 * Issue 17, item 4: the gate validates, audits and executes ONE plain copy of a call's arguments.
 * Argument objects with getters or proxies that answer differently on each read, frozen objects
 * and inherited fields cannot make the schema, the hooks, the audit and the handler disagree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AuditEntry } from '../safety/audit.js';
import { plainArgs } from '../safety/plain-args.js';
import { simRobot } from './helpers.js';

/** An object whose `key` answers `first` on the first read and `later` on every other. */
function flipping(base: Record<string, unknown>, key: string, first: unknown, later: unknown, how: 'getter' | 'proxy'): Record<string, unknown> {
  let reads = 0;
  if (how === 'getter') {
    const o = { ...base };
    Object.defineProperty(o, key, { enumerable: true, configurable: true, get: () => (++reads === 1 ? first : later) });
    return o;
  }
  return new Proxy({ ...base, [key]: first }, {
    get: (t, k, r) => (k === key ? (++reads === 1 ? first : later) : Reflect.get(t, k, r)),
  });
}

test('a getter that answers 10 to the check and NaN to the handler: the arm ramps at 10 deg/s and the audit shows 10', async () => {
  const r = await simRobot();
  try {
    const audit: AuditEntry[] = [];
    r.os.gate.events.on('decision', (e) => audit.push(e));
    await r.os.gate.call({ name: 'servo_move', args: { actuator: 'arm', angle: 90 } }, { source: 'api', runId: 'a' });
    const before = r.writes().length;
    const args = flipping({ actuator: 'arm', angle: 85 }, 'speed_dps', 10, Number.NaN, 'getter');
    await r.os.gate.call({ name: 'servo_move', args }, { source: 'api', runId: 'a' });
    const arm = r.writes().slice(before).filter((w) => w.actuator === 'arm');
    assert.ok(arm.length >= 5, `ramped in steps, got ${JSON.stringify(arm)}`);
    assert.equal(arm.at(-1)?.value, 85);
    const span = (arm.at(-1)?.t ?? 0) - (arm[0]?.t ?? 0);
    assert.ok(span >= 400, `5 degrees at 10 deg/s take about 0.5 s, took ${span} ms`);
    const last = audit.filter((e) => e.tool === 'servo_move').at(-1);
    assert.equal((last?.args as Record<string, unknown>)['speed_dps'], 10, 'the audit records the value executed');
  } finally {
    await r.cleanup();
  }
});

test('property: schema, hooks, audit and handler all see one plain copy (getters, proxies, frozen and inherited fields)', async () => {
  const r = await simRobot();
  try {
    const seen: Array<Readonly<Record<string, unknown>>> = [];
    r.os.gate.addHook('pre_tool_use', (input) => { seen.push(input.args); return undefined; });
    const audit: AuditEntry[] = [];
    r.os.gate.events.on('decision', (e) => audit.push(e));
    const angle = fc.oneof(fc.integer({ min: 0, max: 180 }), fc.constantFrom(-5, 200, Number.NaN, '90', null));
    await fc.assert(fc.asyncProperty(
      angle, angle, fc.constantFrom('getter', 'proxy', 'frozen', 'inherited-actuator', 'inherited-angle', 'plain'),
      async (first, later, how) => {
        let args: Record<string, unknown>;
        switch (how) {
          case 'getter': case 'proxy': args = flipping({ actuator: 'arm' }, 'angle', first, later, how); break;
          case 'frozen': args = Object.freeze({ actuator: 'arm', angle: first }); break;
          case 'inherited-actuator': args = Object.assign(Object.create({ actuator: 'arm' }) as Record<string, unknown>, { angle: first }); break;
          case 'inherited-angle': args = Object.assign(Object.create({ angle: first }) as Record<string, unknown>, { actuator: 'arm' }); break;
          default: args = { actuator: 'arm', angle: first };
        }
        const hooksBefore = seen.length;
        const auditBefore = audit.length;
        const writesBefore = r.writes().length;
        let ok = true;
        try { await r.os.gate.call({ name: 'servo_move', args }, { source: 'api', runId: 'p' }); } catch { ok = false; }
        const entry = audit.slice(auditBefore).find((e) => e.tool === 'servo_move');
        assert.ok(entry, 'audited');
        const recorded = entry.args as Record<string, unknown>;
        // Plain data: ordinary prototype, own data properties only.
        assert.equal(Object.getPrototypeOf(recorded), Object.prototype);
        for (const d of Object.values(Object.getOwnPropertyDescriptors(recorded))) assert.equal('get' in d, false);
        if (how.startsWith('inherited')) assert.equal(Object.keys(recorded).length, 1, 'inherited fields are not arguments');
        const hook = seen.slice(hooksBefore).at(-1);
        if (hook) assert.deepEqual({ ...hook }, recorded, 'hooks saw what the audit recorded');
        const arm = r.writes().slice(writesBefore).filter((w) => w.actuator === 'arm');
        if (!ok) {
          assert.equal(arm.length, 0, 'refused: nothing moved');
        } else {
          assert.equal(recorded['angle'], first, 'the first (and only) read is what counts');
          if (arm.length > 0) assert.equal(arm.at(-1)?.value, recorded['angle'], 'the executed value is the audited value');
        }
      },
    ), { numRuns: 60 });
  } finally {
    await r.cleanup();
  }
});

test('plainArgs refuses functions, cycles and throwing proxies with ERR_TOOL_ARGS, and keeps __proto__ a plain key', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  for (const bad of [{ f: () => 1 }, cyclic, new Proxy({}, { ownKeys: () => { throw new Error('no'); } }), { s: Symbol('x') }]) {
    assert.throws(() => plainArgs('t', bad), (e: unknown) => (e as { code?: string }).code === 'ERR_TOOL_ARGS');
  }
  const p = plainArgs('t', JSON.parse('{"__proto__": {"actuator": "arm"}, "x": 1}'));
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.equal((p as Record<string, unknown>)['actuator'], undefined);
});
