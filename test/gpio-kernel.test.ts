/**
 * The GPIO driver and the runtime against a real Linux kernel's GPIO: Debian's kernel in a QEMU
 * guest with gpio-sim (built by test/kernel/setup.sh), the companion suite
 * test/kernel/gpio-guest.ts running inside it through onoff and sysfs, each of its results
 * reported here as a subtest. PWM has no kernel simulator; the guest keeps the fake sysfs twin
 * for PWM (motor speed, servo).
 *
 * In CI (LLMOS_CI=1) a guest that cannot be prepared or started is a failure. Elsewhere, a
 * machine without QEMU, busybox-static or Debian's kernel packages skips with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, packagePath } from '../lib/paths.js';
import { parseTap, prepareGuest, runInGuest } from './kernel/qemu.js';

const CI = process.env['LLMOS_CI'] === '1';
/** The guest suite's tests; a guest that runs fewer has lost some. */
const GUEST_TESTS = 10;

test('GPIO against a real kernel: gpio-sim in a QEMU guest', { timeout: 900_000 }, async (t) => {
  const prepared = await prepareGuest({ timeoutMs: 600_000 });
  if (!prepared.ok) {
    if (prepared.missing && !CI) {
      t.skip(`no kernel GPIO guest here: ${prepared.reason}`);
      return;
    }
    assert.fail(`cannot prepare the gpio-sim guest: ${prepared.reason}`);
  }
  t.diagnostic(`guest ${prepared.image.kver} ready in ${prepared.ms} ms`);
  const suite = packagePath('dist', 'test', 'kernel', 'gpio-guest.js');
  assert.ok(existsSync(suite), `${suite} is missing: run npm run build`);
  // Runs in the guest with the host's root as its root (read-only) and a tmpfs /tmp.
  const script = [
    `cd '${packageRoot}'`,
    'export HOME=/tmp LLMOS_GPIO_GUEST=1 NODE_NO_WARNINGS=1 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    'unset LLMOS_CI NODE_OPTIONS',
    // The kernel's gpio_value tracepoint: the guest suite reads what the driver set, in order.
    'mount -t tracefs nodev /sys/kernel/tracing',
    `'${process.execPath}' --test-reporter=tap --test-reporter-destination=/tmp/out/guest.tap --test-reporter=spec --test-reporter-destination=stdout '${suite}'`,
  ].join('\n');
  const run = await runInGuest(prepared.image, script, { timeoutMs: 600_000 });
  try {
    t.diagnostic(`guest booted, tested and powered off in ${run.ms} ms`);
    const tail = run.console.split('\n').slice(-60).join('\n');
    // The report is written as the guest goes: a guest that hangs still shows what passed.
    const tapFile = join(run.outDir, 'guest.tap');
    const results = existsSync(tapFile) ? parseTap(readFileSync(tapFile, 'utf8')) : [];
    for (const r of results) {
      await t.test(`guest: ${r.name}`, () => {
        assert.equal(r.skip, false, `skipped in the guest:\n${r.detail}`);
        assert.equal(r.ok, true, `failed in the guest:\n${r.detail}`);
      });
    }
    assert.equal(run.timedOut, false, `the guest did not power off within its bound; console:\n${tail}`);
    assert.ok(existsSync(tapFile), `the guest suite left no report; console:\n${tail}`);
    assert.equal(results.length, GUEST_TESTS, `the guest ran ${results.length} tests; console:\n${tail}`);
    assert.equal(run.code, 0, `the guest suite exited ${String(run.code)}; console:\n${tail}`);
  } finally {
    run.cleanup();
  }
});
