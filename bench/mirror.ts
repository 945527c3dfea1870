// Makes the backup source folder equal to one dataset version, like `rsync -a --delete` (which
// Debian images often lack). Files with the same size and mtime are left alone, so their inode,
// ctime and mtime stay put and a tool's change detection sees exactly what a day's edits changed:
// the backed-up path stays the same string and its contents move from v1 to v2, which is what an
// incremental backup is.
import { copyFile, mkdir, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { pool, walk } from './fsutil.ts';

export interface MirrorStats {
  copied: number;
  deleted: number;
  kept: number;
}

export async function mirror(from: string, to: string): Promise<MirrorStats> {
  await mkdir(to, { recursive: true });
  const [src, dst] = await Promise.all([walk(from), walk(to)]);
  const stats: MirrorStats = { copied: 0, deleted: 0, kept: 0 };

  const wantDirs = new Set(src.dirs);
  for (const rel of [...dst.files.keys(), ...dst.other]) {
    if (!src.files.has(rel)) {
      await rm(path.join(to, rel), { force: true });
      stats.deleted++;
    }
  }
  for (const rel of [...dst.dirs].reverse()) {
    if (!wantDirs.has(rel)) await rm(path.join(to, rel), { recursive: true, force: true });
  }
  for (const rel of src.dirs) await mkdir(path.join(to, rel), { recursive: true });

  const changed = [...src.files].filter(([rel, e]) => {
    const d = dst.files.get(rel);
    return !d || d.size !== e.size || Math.round(d.mtimeMs) !== Math.round(e.mtimeMs);
  });
  stats.kept = src.files.size - changed.length;
  await pool(changed, 16, async ([rel, e]) => {
    const target = path.join(to, rel);
    await copyFile(path.join(from, rel), target);
    await utimes(target, e.mtimeMs / 1000, e.mtimeMs / 1000);
    stats.copied++;
  });
  return stats;
}
