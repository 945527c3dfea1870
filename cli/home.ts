// Where georep keeps local state: the embedded catalog, change caches, staging. $GEOREP_HOME, or
// ~/.georep.
import os from 'node:os';
import path from 'node:path';

export function georepHome(env: Record<string, string | undefined>): string {
  return path.resolve(env.GEOREP_HOME ?? path.join(env.HOME ?? os.homedir(), '.georep'));
}

/** Where a run puts temporary files it unlinks at once (a snapshot's known blob ids). */
export function spillDir(env: Record<string, string | undefined>): string {
  return path.join(georepHome(env), 'cache', 'spill');
}

export function changeCacheDir(env: Record<string, string | undefined>): string {
  return path.join(georepHome(env), 'cache', 'files');
}

/**
 * The user's cache folder for georep, shared by every home: `$XDG_CACHE_HOME/georep`, else
 * `~/.cache/georep`. It holds only what can be made again (a fresh embedded catalog to copy).
 */
export function userCacheDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME !== undefined && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME ?? os.homedir(), '.cache');
  return path.join(base, 'georep');
}
