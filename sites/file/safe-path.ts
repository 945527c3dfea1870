// Turning a key into a path under the site's folder without ever passing through a symlink.
// Keys are checked with keyProblem() first, so '..' cannot appear; what remains is a symlink
// planted inside the folder (by a user, a restore gone wrong, or an attacker with write access
// to a share) that would make us read or write outside the site. Every component below the root
// is lstat()ed, and the last one is opened with O_NOFOLLOW. The root itself is trusted: an
// operator may well point a site at a symlinked mount.
//
// Node has no openat(), so a component swapped for a symlink between the check and the use can
// still slip through; that needs write access to the site folder and a tight race, and is the
// accepted limit here.
import { constants, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, PermanentError } from '../errors.ts';
import { errnoCode } from './fs-errors.ts';

/** Open flags for reading an object: never follow a final symlink, never block on a planted FIFO. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function keyPath(root: string, key: string): string {
  return path.join(root, ...key.split('/'));
}

/**
 * Checks that every folder above `key` is a real folder. A missing one or a file in the way
 * means there is no such object (NotFoundError); a symlink is refused (PermanentError).
 */
export async function checkParents(root: string, key: string, site: string): Promise<void> {
  const segments = key.split('/').slice(0, -1);
  let dir = root;
  for (const segment of segments) {
    dir = path.join(dir, segment);
    const st = await fs.lstat(dir);
    if (st.isSymbolicLink()) throw symlinkRefused(site, key, dir);
    if (!st.isDirectory()) throw new NotFoundError(`${JSON.stringify(key)} not found at site ${site}`, { site, key });
  }
}

/**
 * Creates the folders above `key` as needed, refusing symlinks and files in the way. Returns the
 * folders whose entries changed (the parents of every folder created), which must be fsynced for
 * the new path to survive a crash.
 */
export async function ensureParents(root: string, key: string, site: string): Promise<string[]> {
  const segments = key.split('/').slice(0, -1);
  const changed: string[] = [];
  let dir = root;
  for (const segment of segments) {
    const parent = dir;
    dir = path.join(dir, segment);
    let st = await lstatOrUndefined(dir);
    if (st === undefined) {
      try {
        await fs.mkdir(dir);
        changed.push(parent);
      } catch (err) {
        // Another writer created it first: fine, as long as it is a real folder (checked below).
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      st = await fs.lstat(dir);
    }
    if (st.isSymbolicLink()) throw symlinkRefused(site, key, dir);
    if (!st.isDirectory()) {
      const inTheWay = JSON.stringify(path.relative(root, dir));
      throw new PermanentError(
        `cannot store ${JSON.stringify(key)} at site ${site}: ${inTheWay} is an object, not a folder`,
        { site, key, hint: 'a file site cannot hold both a key and keys below it (a and a/b)' },
      );
    }
  }
  return changed;
}

export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function symlinkRefused(site: string, key: string, at: string): PermanentError {
  return new PermanentError(
    `refusing to follow a symlink at ${JSON.stringify(at)} for ${JSON.stringify(key)} at site ${site}`,
    { site, key, hint: 'something planted a symlink inside the site folder; remove it' },
  );
}

// Some mounted filesystems (SMB, some FUSE) cannot fsync a folder; there is nothing stronger to
// fall back to, so those answers are accepted rather than failing every put.
const DIR_FSYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF', 'EISDIR']);

/** fsyncs a folder so that entries created or renamed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (code === undefined || !DIR_FSYNC_UNSUPPORTED.has(code)) throw err;
  } finally {
    await handle.close();
  }
}
