/**
 * A full disk (issue 18 item 10), on a real one: a 64 KiB tmpfs mounted for the test. The audit
 * log says once per failure streak that it cannot write, and a line torn by a failed write
 * never corrupts the next record (audit log and session log).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FileAudit } from '../safety/audit.js';
import { SessionLog } from '../runtime/memory/session-log.js';
import { tempDir } from './helpers.js';

/** A tiny filesystem of its own, or a skip with the reason (a failure in CI, where root may mount). */
function tinyDisk(t: TestContext): string | undefined {
  const dir = tempDir('llmos-fulldisk-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    const reason = `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()}); needs root`;
    if (process.env['LLMOS_CI'] === '1' && process.getuid?.() === 0) throw new Error(reason);
    t.skip(reason);
    return undefined;
  }
  t.after(() => { spawnSync('umount', [dir]); });
  return dir;
}

/** Fills the disk to the last byte; returns the filler's path (delete it to free the space). */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'a');
  try {
    for (const size of [4096, 512, 64, 8, 1]) {
      const chunk = Buffer.alloc(size, 0x78);
      for (;;) {
        try { writeSync(fd, chunk); } catch { break; }
      }
    }
  } finally { closeSync(fd); }
  return filler;
}

function parse(path: string): { good: Array<Record<string, unknown>>; bad: string[] } {
  const good: Array<Record<string, unknown>> = [];
  const bad: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    try { good.push(JSON.parse(line) as Record<string, unknown>); } catch { bad.push(line); }
  }
  return { good, bad };
}

const entry = (n: number, pad = 0): Parameters<FileAudit['record']>[0] => ({ ts: new Date().toISOString(), source: 'test', run: `r${n}`, tool: 'digital_write', decision: 'allow', args: { n, pad: 'p'.repeat(pad) } });

test('audit log on a full disk: one warning per failure streak; a torn line never corrupts the next record', async (t) => {
  const dir = tinyDisk(t);
  if (!dir) return;
  const path = join(dir, 'audit.jsonl');
  const warnings: string[] = [];
  const audit = new FileAudit(path, 200, (m) => warnings.push(m));
  audit.record(entry(1));
  await audit.flush();
  const filler = fill(dir);
  // Bigger than any slack left in the log's last page: written in part, then ENOSPC.
  for (let i = 2; i <= 6; i++) { audit.record(entry(i, 6000)); await audit.flush(); }
  audit.record(entry(7, 6000));
  audit.flushSync();
  assert.equal(warnings.length, 1, `one warning for the whole streak: ${warnings.join(' | ')}`);
  assert.match(warnings[0] ?? '', /audit log .*audit\.jsonl: cannot write \(ENOSPC\)/);
  rmSync(filler);
  audit.record(entry(8));
  await audit.flush();
  assert.equal(warnings.length, 2);
  assert.match(warnings[1] ?? '', /writing again/);
  const { good, bad } = parse(path);
  assert.deepEqual(good.map((g) => g['run']), ['r1', 'r8'], 'every record written after the torn line is whole');
  assert.ok(bad.length <= 1, `at most the one torn line: ${bad.length}`);
  assert.ok(statSync(path).size > 0);
  // A second streak is reported again.
  const filler2 = fill(dir);
  audit.record(entry(9, 6000));
  await audit.flush();
  assert.equal(warnings.length, 3);
  rmSync(filler2);
});

test('session log on a full disk: a torn line never corrupts the next record', (t) => {
  const dir = tinyDisk(t);
  if (!dir) return;
  const log = new SessionLog({ dir: join(dir, 'sessions'), maxBytes: 1 << 20, keep: 3 });
  log.append({ run: 'r1' });
  const filler = fill(dir);
  assert.throws(() => log.append({ run: 'r2', pad: 'p'.repeat(6000) }), /ENOSPC/);
  assert.throws(() => log.append({ run: 'r3', pad: 'p'.repeat(6000) }), /ENOSPC/);
  rmSync(filler);
  log.append({ run: 'r4' });
  // A new process on the same file finds the torn tail too.
  const again = new SessionLog({ dir: join(dir, 'sessions'), maxBytes: 1 << 20, keep: 3 });
  const filler2 = fill(dir);
  assert.throws(() => again.append({ run: 'r5', pad: 'p'.repeat(6000) }), /ENOSPC/);
  rmSync(filler2);
  const fresh = new SessionLog({ dir: join(dir, 'sessions'), maxBytes: 1 << 20, keep: 3 });
  fresh.append({ run: 'r6' });
  const { good, bad } = parse(log.file);
  assert.deepEqual(good.map((g) => g['run']), ['r1', 'r4', 'r6']);
  assert.ok(bad.length >= 1, 'the failed writes left torn lines (the case this guards)');
});
