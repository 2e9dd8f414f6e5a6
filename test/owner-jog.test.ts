/**
 * `llmos jog` on a real pseudo-terminal beside a running owner: the keys travel over the control
 * socket, the owner drives its board through its gate, and a client killed mid-drive leaves the
 * base at rest (the owner ends the session and stops motion; each step is bounded by half the
 * deadman window anyway). Real time: the drive is in progress when the client dies.
 */
import { whenOwnerServes } from '../runtime/owner/status.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { packagePath } from '../lib/paths.js';
import { readSimLog, runBin, tempDir } from './helpers.js';
import { spawnInPty } from './pty.js';

async function until<T>(f: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('llmos jog beside a running owner: keys drive the owner\'s base; a silent client\'s drive ends by itself; killing the client mid-drive leaves the base at 0', { timeout: 240_000 }, async () => {
  const dir = tempDir('llmos-owner-jog-');
  const traces = join(dir, 'traces');
  const state = join(dir, 'state');
  const simLog = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), traces, { recursive: true });
  const flags = ['--traces', traces, '--state', state, '--sim-log', simLog];
  const owner: ChildProcessWithoutNullStreams = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--serve', ...flags], { cwd: dir, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  let ownerErr = '';
  owner.stderr.on('data', (b: Buffer) => { ownerErr += b.toString(); });
  owner.stdout.resume();
  const ownerExited = new Promise<void>((resolve) => owner.on('close', () => resolve()));
  try {
    const up = await whenOwnerServes(state, { tries: 1200, exited: () => (owner.exitCode === null ? undefined : ownerErr) });
    assert.ok(up.socket, `the owner serves its control socket: ${ownerErr}`);

    const p = spawnInPty([process.execPath, packagePath('dist', 'bin', 'llmos.js'), 'jog', ...flags]);
    await p.waitFor(/\[1\/\d+ base base = [^\]]*\] speed x1 \| steps 0 \| e-stop off/);
    let mark = p.output.length;
    p.type('w');
    await p.waitFor(/steps 1 /, mark);
    const base = (): Array<{ value: unknown; channel?: string }> => readSimLog(simLog).filter((w) => w.actuator === 'base');
    assert.ok(base().some((w) => typeof w.value === 'number' && w.value > 0), 'the owner\'s base drove forward');
    await until(() => base().at(-1)?.value === 0, 30_000, 'the first step to end');

    const clientOf = (pty: { child: { pid?: number } }): number => {
      const bridge = pty.child.pid as number;
      return Number(readFileSync(`/proc/${bridge}/task/${bridge}/children`, 'utf8').trim().split(/\s+/)[0]);
    };
    const wheels = (): number[] => {
      const last: Record<string, number> = {};
      for (const w of base()) if (typeof w.value === 'number') last[w.channel ?? 'base'] = w.value;
      return Object.values(last);
    };
    // A client that goes silent mid-drive (stopped, its socket still open): the steps are
    // bounded, so the base comes to rest without another message.
    const silentFrom = base().length;
    p.type('wwww');
    await until(() => base().slice(silentFrom).some((w) => typeof w.value === 'number' && w.value > 0), 30_000, 'the held key to drive');
    const silent = clientOf(p);
    process.kill(silent, 'SIGSTOP');
    try {
      await until(() => wheels().length > 0 && wheels().every((v) => v === 0), 30_000, 'the base at rest while the client is silent');
    } finally {
      process.kill(silent, 'SIGCONT');
    }

    // Hold the key, and kill the client (the node process on the pty) while the base moves.
    const before = base().length;
    mark = p.output.length;
    p.type('wwww');
    await until(() => base().slice(before).some((w) => typeof w.value === 'number' && w.value > 0), 30_000, 'the held key to drive');
    const client = clientOf(p);
    assert.ok(client > 0, 'the jog client\'s pid');
    process.kill(client, 'SIGKILL');
    await p.exited;
    await until(() => wheels().length > 0 && wheels().every((v) => v === 0), 30_000, 'the base at rest after the client died');
    // It stays at rest: the owner started nothing after the client went away; it still serves goals.
    const afterKill = base().length;
    const beep = await runBin('run-follower.js', [...flags, '--json', 'beep'], { cwd: dir });
    assert.equal(beep.code, 0, beep.stderr);
    assert.deepEqual(base().slice(afterKill).filter((w) => w.value !== 0), [], 'no drive after the client died');
    assert.deepEqual(wheels().filter((v) => v !== 0), [], 'both wheels at 0');
    const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8');
    assert.match(audit, /jog: quit/, 'the owner ended the jog session and stopped motion');
  } finally {
    owner.kill('SIGTERM');
    await ownerExited;
  }
});
