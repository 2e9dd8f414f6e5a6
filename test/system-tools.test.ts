import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LlmosError } from '../lib/errors.js';
import { destructiveReason } from '../safety/system-tools.js';
import { simRobot } from './helpers.js';

test('destructive shell commands are recognised', () => {
  const blocked = [
    'rm -rf /', 'rm -fr ~/data', 'rm -r -f build', 'sudo rm --recursive --force /var', 'mkfs.ext4 /dev/sda1', 'dd if=/dev/zero of=/dev/sda',
    'shutdown -h now', 'reboot', 'systemctl poweroff', 'init 0', ':(){ :|:& };:', 'echo 1 > /sys/class/gpio/export', 'cat x >> /dev/sda',
    'tee /boot/config.txt < x', 'cp evil /boot/kernel.img', 'chmod -R 777 /', 'wipefs -a /dev/sdb', 'kill -9 -1',
  ];
  for (const c of blocked) assert.ok(destructiveReason(c), `should block: ${c}`);
  for (const c of ['ls -la', 'python3 calc.py 2 + 3', 'rm old.txt', 'echo hi > out.txt', 'grep -r foo .', 'mkdir -p build']) {
    assert.equal(destructiveReason(c), undefined, `should allow: ${c}`);
  }
});

test('system tools are off by default, and when on, confined to the workspace', async () => {
  const off = await simRobot({ shippedTraces: false });
  try {
    await assert.rejects(off.os.gate.call({ name: 'Write', args: { file_path: 'a.txt', content: 'x' } }, { source: 'llm', runId: 'r' }), (e: unknown) => e instanceof LlmosError && e.code === 'ERR_TOOL_DISABLED');
  } finally {
    await off.cleanup();
  }
  const r = await simRobot({ shippedTraces: false, overrides: { tools: { system: { enabled: true } } } });
  const ctx = { source: 'llm' as const, runId: 'r' };
  try {
    const ws = join(r.dir, 'workspace');
    await r.os.gate.call({ name: 'Write', args: { file_path: 'sub/a.txt', content: 'hello' } }, ctx);
    const read = await r.os.gate.call({ name: 'Read', args: { file_path: 'sub/a.txt' } }, ctx);
    assert.deepEqual(read.value, { content: 'hello' });
    const blocked = async (name: string, args: Record<string, unknown>, pattern: RegExp): Promise<void> => {
      await assert.rejects(r.os.gate.call({ name, args }, ctx), (e: unknown) => {
        assert.ok(e instanceof LlmosError && e.code === 'ERR_SAFETY_SYSTEM_TOOL', String(e));
        assert.match(e.message, pattern);
        return true;
      });
    };
    await blocked('Write', { file_path: '../escape.txt', content: 'x' }, /outside the workspace/);
    await blocked('Read', { file_path: '/etc/passwd' }, /outside the workspace/);
    await blocked('Write', { file_path: '/dev/null', content: 'x' }, /outside the workspace/);
    mkdirSync(join(r.dir, 'outside'), { recursive: true });
    writeFileSync(join(r.dir, 'outside', 'secret'), 's');
    symlinkSync(join(r.dir, 'outside'), join(ws, 'link'));
    await blocked('Read', { file_path: 'link/secret' }, /symbolic link/);
    await blocked('Bash', { command: 'rm -rf /' }, /rm -rf/);
    await blocked('Bash', { command: 'echo 1 > /sys/class/gpio/export' }, /\/sys/);
    const ok = await r.os.gate.call({ name: 'Bash', args: { command: 'cat sub/a.txt' } }, ctx);
    assert.equal((ok.value as { stdout: string }).stdout, 'hello');
    await assert.rejects(r.os.gate.call({ name: 'Bash', args: { command: 'exit 3' } }, ctx), /exited with 3/);
  } finally {
    await r.cleanup();
  }
});

test('the seed\'s own example runs as FOLLOWER when system tools are enabled', async () => {
  const r = await simRobot({ overrides: { tools: { system: { enabled: true } } } });
  try {
    const res = await r.os.execute('Build a calculator in Python');
    assert.equal(res.mode, 'FOLLOWER');
    assert.equal(res.llm_calls, 0);
    if (res.ok) {
      assert.match(String((res.steps[1]?.value as { stdout?: string })?.stdout), /5\.0/);
    } else {
      // No python3 on this machine: the step fails with a clear error, nothing else happens.
      assert.equal(res.error?.code, 'ERR_STEP_FAILED');
    }
  } finally {
    await r.cleanup();
  }
});
