// Listing and finding snapshots at a site. Each manifest is authenticated and validated on its
// own; one damaged or forged manifest is reported and the others still list.
import { describeError, UsageError } from '../core/errors.ts';
import { Semaphore } from '../sites/wrappers/semaphore.ts';
import type { Repository } from './repository.ts';
import { validateSnapshot } from './snapshot.ts';
import type { Hex64, SnapshotManifest } from './types.ts';

export interface SnapshotEntry {
  id: Hex64;
  manifest: SnapshotManifest;
}

export interface SnapshotListing {
  /** Oldest first, by the manifest's time. */
  snapshots: SnapshotEntry[];
  problems: { id: Hex64; message: string }[];
}

export async function listSnapshots(repo: Repository, concurrency = 8): Promise<SnapshotListing> {
  const snapshots: SnapshotEntry[] = [];
  const problems: SnapshotListing['problems'] = [];
  const limit = new Semaphore(concurrency);
  const loads: Promise<void>[] = [];
  for await (const id of repo.listObjects('snapshot')) {
    loads.push(
      limit.run(async () => {
        try {
          snapshots.push({ id, manifest: validateSnapshot(await repo.loadObject('snapshot', id), `snapshots/${id}`) });
        } catch (err) {
          problems.push({ id, message: describeError(err) });
        }
      }),
    );
  }
  await Promise.all(loads);
  snapshots.sort((a, b) => a.manifest.time.localeCompare(b.manifest.time) || a.id.localeCompare(b.id));
  return { snapshots, problems };
}

/**
 * Resolves what a user typed: `latest`, a full id, or a unique prefix of at least 4 hex digits.
 * `latest` may be narrowed to snapshots of one source path.
 */
export function findSnapshot(listing: SnapshotListing, ref: string, path?: string): SnapshotEntry {
  const candidates =
    path === undefined ? listing.snapshots : listing.snapshots.filter((s) => s.manifest.paths.includes(path));
  if (ref === 'latest') {
    const last = candidates.at(-1);
    if (last === undefined) throw new UsageError('there is no snapshot yet', { hint: 'georep snapshot <path> --site <url>' });
    return last;
  }
  if (!/^[0-9a-f]{4,64}$/.test(ref)) {
    throw new UsageError(`${JSON.stringify(ref)} is not a snapshot id: use latest, or 4 to 64 hex digits`);
  }
  const matches = listing.snapshots.filter((s) => s.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new UsageError(`no snapshot ${ref}`, { hint: 'georep snapshots lists them' });
  throw new UsageError(`snapshot prefix ${ref} is ambiguous (${matches.length} snapshots): give more digits`);
}
