/**
 * Crash-safe persistence: write to a temp file in the same directory, fsync it, rename it over
 * the target, fsync the directory. A crash at any point leaves either the old file or the new
 * one, never half of either.
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

let tempSeq = 0;
function tempPathFor(target: string): string {
  // Unique per process and call; the random part guards against a reused pid after a crash.
  return join(dirname(target), `.${basename(target)}.${process.pid}.${++tempSeq}.${Math.random().toString(36).slice(2, 8)}.tmp`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(dirname(target));
}

/**
 * Several files as one change, as far as a filesystem allows: every file is written and synced
 * to a temp file first; only when all of them are on disk are they renamed into place. A failure
 * while staging (disk full, permissions) leaves every target as it was.
 */
export async function writeFilesAtomic(files: ReadonlyArray<{ target: string; data: string | Uint8Array }>, onEach?: (i: number, target: string) => void): Promise<void> {
  const staged: Array<{ tmp: string; target: string }> = [];
  try {
    for (const [i, f] of files.entries()) {
      await mkdir(dirname(f.target), { recursive: true });
      const tmp = tempPathFor(f.target);
      staged.push({ tmp, target: f.target });
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(f.data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      onEach?.(i, f.target);
    }
  } catch (e) {
    await Promise.all(staged.map((s) => unlink(s.tmp).catch(() => undefined)));
    throw e;
  }
  for (const s of staged) await rename(s.tmp, s.target);
  for (const dir of new Set(staged.map((s) => dirname(s.target)))) await syncDir(dir);
}

/** Synchronous twin for exit paths, where the event loop may not run again. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    if (typeof data === 'string') writeSync(fd, data); else writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, target);
}

async function syncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable; some filesystems refuse it, which is harmless.
  try {
    const fh = await open(dir, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  } catch { /* not supported here */ }
}
