// What `georep ship` has to do, per repository: every snapshot waiting in local staging (a pending
// record) and every snapshot the catalog says some live site has not committed. The second kind
// covers a staging folder that was lost or never held the snapshot (another machine took it):
// then the sites that hold it committed are among the targets, and shipping copies its objects
// from them (each checked against its SHA-256 name before it is written).
import type { CatalogDb } from '../catalog/db.ts';
import { snapshotsToCatchUp } from '../catalog/queries/catch-up.ts';
import type { Hex64 } from '../repository/types.ts';
import type { PendingShip } from '../replicator/ship/staging.ts';

export interface ShipItem {
  snapshot: Hex64;
  /** Sites to ship it to (names or URLs); sites holding it committed are sources and say so. */
  targets: string[];
  /** The staging record, when staging holds one: it is released once all its targets commit. */
  pending?: PendingShip;
}

export interface RepositoryWork {
  repository: Hex64;
  items: ShipItem[];
}

/**
 * Merges staging's pending records (per repository) with the catalog's snapshots to catch up.
 * `only` (from --to) narrows the sites shipped to; for a snapshot from the catalog the sites that
 * hold it committed stay, as sources.
 */
export async function shipWork(
  db: CatalogDb,
  staged: ReadonlyMap<Hex64, readonly PendingShip[]>,
  only: readonly string[] | undefined,
): Promise<RepositoryWork[]> {
  const work = new Map<Hex64, ShipItem[]>();
  const items = (repository: Hex64): ShipItem[] => {
    let list = work.get(repository);
    if (list === undefined) work.set(repository, (list = []));
    return list;
  };
  const seen = new Set<Hex64>();
  for (const [repository, pending] of staged) {
    for (const p of pending) {
      seen.add(p.snapshot);
      items(repository).push({ snapshot: p.snapshot, targets: only === undefined ? p.targets : [...only], pending: p });
    }
  }
  for (const c of await snapshotsToCatchUp(db)) {
    if (seen.has(c.snapshot)) continue;
    const behind = only === undefined ? c.behind : c.behind.filter((s) => only.includes(s));
    if (behind.length === 0) continue;
    items(c.repository).push({ snapshot: c.snapshot, targets: [...behind, ...c.committed.filter((s) => !behind.includes(s))] });
  }
  return [...work].filter(([, list]) => list.length > 0).map(([repository, list]) => ({ repository, items: list }));
}
