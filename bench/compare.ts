// Checks a restore against the data that was backed up: same file list, same sizes, same SHA-256
// of every file's content. A backup tool that is fast but restores wrong bytes has failed.
import { createHash } from 'node:crypto';
import { access, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pool, walk } from './fsutil.ts';

export interface HashedTree {
  files: Map<string, { size: number; sha256: string }>;
  dirs: Set<string>;
}

export interface Comparison {
  ok: boolean;
  files: number;
  bytes: number;
  missing: number;
  extra: number;
  sizeDiffers: number;
  contentDiffers: number;
  /** The first few differences, for a human. */
  examples: string[];
}

export async function hashTree(root: string): Promise<HashedTree> {
  const tree = await walk(root);
  const files = new Map<string, { size: number; sha256: string }>();
  // Larger files first, so one big file does not finish alone at the end.
  const order = [...tree.files].sort((a, b) => b[1].size - a[1].size);
  await pool(order, 8, async ([rel, e]) => {
    files.set(rel, { size: e.size, sha256: await sha256(path.join(root, rel), e.size) });
  });
  return { files, dirs: new Set(tree.dirs) };
}

export async function compareTrees(expected: HashedTree, actualRoot: string): Promise<Comparison> {
  const actual = await hashTree(actualRoot);
  const c: Comparison = {
    ok: true, files: actual.files.size, bytes: 0, missing: 0, extra: 0, sizeDiffers: 0,
    contentDiffers: 0, examples: [],
  };
  const note = (s: string): void => {
    c.ok = false;
    if (c.examples.length < 5) c.examples.push(s);
  };
  for (const [rel, want] of expected.files) {
    const got = actual.files.get(rel);
    if (!got) {
      c.missing++;
      note(`missing: ${rel}`);
    } else if (got.size !== want.size) {
      c.sizeDiffers++;
      note(`size ${got.size} != ${want.size}: ${rel}`);
    } else if (got.sha256 !== want.sha256) {
      c.contentDiffers++;
      note(`content differs: ${rel}`);
    }
  }
  for (const [rel, got] of actual.files) {
    c.bytes += got.size;
    if (!expected.files.has(rel)) {
      c.extra++;
      note(`extra: ${rel}`);
    }
  }
  for (const dir of expected.dirs) {
    if (!actual.dirs.has(dir)) {
      c.missing++;
      note(`missing folder: ${dir}`);
    }
  }
  return c;
}

/**
 * Where the restored copy of `sourceDir` sits inside `target`: restic recreates the absolute
 * source path under the target, another tool may restore the folder by its name, or its contents
 * straight into the target.
 */
export async function restoredRoot(target: string, sourceDir: string): Promise<string> {
  const nested = path.join(target, path.resolve(sourceDir));
  if (await exists(nested)) return nested;
  const named = path.join(target, path.basename(sourceDir));
  const top = await readdir(target).catch(() => []);
  if (top.length === 1 && top[0] === path.basename(sourceDir) && (await exists(named))) return named;
  return target;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

const WHOLE = 4 << 20;

// Small files in one read; a stream per file would allocate a full read buffer for each of
// twenty thousand files, which made hashing ten times slower than SHA-256 itself.
async function sha256(file: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size <= WHOLE) return h.update(await readFile(file)).digest('hex');
  const fh = await open(file);
  try {
    const buf = Buffer.allocUnsafe(WHOLE);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}
