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
