// list() for the file backend: a depth-first walk that starts at the deepest folder the prefix
// names in full (listing 'data/ab' reads 'data/' once, filtered to names starting 'ab', rather
// than the whole site). Only real folders and regular files are followed: symlinks, FIFOs and
// sockets are skipped without being opened, and so is any name that is not a valid key, which
// also hides the backend's own temporary folder.
import fs from 'node:fs/promises';
import path from 'node:path';
import { keyProblem } from '../keys.ts';
import type { ObjectInfo } from '../site.ts';
import { errnoCode } from './fs-errors.ts';
import { lstatOrUndefined } from './safe-path.ts';

/** Yields every regular file under `root` whose key starts with `prefix` (already validated). */
export async function* walkPrefix(root: string, prefix: string, signal?: AbortSignal): AsyncGenerator<ObjectInfo> {
  const slash = prefix.lastIndexOf('/');
  const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
  const namePrefix = prefix.slice(slash + 1);
  let dir = root;
  for (const segment of dirKey === '' ? [] : dirKey.split('/')) {
    dir = path.join(dir, segment);
    const st = await lstatOrUndefined(dir);
    // No folder, a file, or a symlink where the prefix's folder should be: nothing to list.
    if (st === undefined || !st.isDirectory()) return;
  }
  yield* walkDir(dir, dirKey, namePrefix, signal);
}

async function* walkDir(
  dir: string,
  dirKey: string,
  namePrefix: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<ObjectInfo> {
  signal?.throwIfAborted();
  let handle;
  try {
    handle = await fs.opendir(dir);
  } catch (err) {
    // Removed (or replaced by a file) since its parent was read: it holds nothing now.
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  // for await closes the Dir on completion, on error, and when the consumer stops early.
  for await (const entry of handle) {
    signal?.throwIfAborted();
    if (!entry.name.startsWith(namePrefix)) continue;
    const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
    if (keyProblem(key) !== undefined) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* walkDir(full, key, '', signal);
    } else if (entry.isFile()) {
      const st = await lstatOrUndefined(full);
      if (st === undefined || !st.isFile()) continue;
      yield { key, size: st.size, lastModified: st.mtime };
    }
  }
}
