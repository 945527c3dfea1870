// Before each timed step the kernel is put in the same state, for both tools. On the bench VM
// (2 cores, ext4 without a journal) what the earlier steps left behind decided a step's time as
// much as the tool did: dirty pages still to be written back, and page-cache pages the guest had
// never used. Restoring 1 GiB into such pages took 4.7 s of copy_folio_from_iter_atomic alone
// (perf, 2026-11-28; ~0.2 s into reused ones), and the same restore took 4.5 s, then 7.7 s,
// then 8.7 s in a row, for either tool. So each step starts after `sync`, a drop of the clean page
// cache (its pages are reused next, already backed by the host), and a read of every file the
// step reads (the tool's repository and cache, the source) so that those are cached, as a step
// right after the one before found them.
import { spawnSync } from 'node:child_process';
import { open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pool } from './fsutil.ts';

export interface Settled {
  /** False when the page cache could not be dropped (not root): then only sync and warm. */
  dropped: boolean;
}

/** sync, drop the clean page cache, then read every file under `warm` (skipping `skip`). */
export async function settle(warm: readonly string[], skip: readonly string[] = []): Promise<Settled> {
  spawnSync('sync');
  let dropped = true;
  try {
    await writeFile('/proc/sys/vm/drop_caches', '1\n');
  } catch {
    dropped = false;
  }
  const files: string[] = [];
  for (const root of warm) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(e.parentPath, e.name);
      if (e.isFile() && !skip.some((s) => full === s || full.startsWith(s + path.sep))) files.push(full);
    }
  }
  // One buffer for every reader: what is read is thrown away, only the caching counts.
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  await pool(files, 4, async (file) => {
    const fh = await open(file, 'r').catch(() => undefined);
    if (fh === undefined) return;
    try {
      while ((await fh.read(buffer, 0, buffer.length, null)).bytesRead > 0);
    } finally {
      await fh.close();
    }
  });
  return { dropped };
}
