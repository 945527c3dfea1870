// What retention works from: a dataset's snapshots with the time the catalog saw them committed
// (the database clock), never the manifest's own time, which the writer's clock (or a forger)
// chose. Snapshots the catalog never saw committed are not candidates: a manifest that appeared
// at a site on its own cannot push real snapshots out of a retention window.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import type { SnapshotSiteState } from './snapshots.ts';
import { date, dateOrNull, one } from './rows.ts';

export interface RetentionSnapshot {
  id: Hex64;
  /** First commit at any site, database clock: what retention counts from. */
  committedAt: Date;
  /** The manifest's time (writer's clock): shown, not used. */
  takenAt: Date;
  /** When forget decided to drop it (database clock), or null while kept. */
  forgottenAt: Date | null;
  /** Its state at each registered site that has a record of it. */
  sites: { site: string; state: SnapshotSiteState }[];
}

interface Row {
  hex: string;
  committed_at: unknown;
  taken_at: unknown;
  forgotten_at: unknown;
  site: string | null;
  state: SnapshotSiteState | null;
}

/** Every committed snapshot of the dataset, kept or forgotten, newest commit first. */
export async function datasetSnapshots(db: CatalogDb, dataset: string): Promise<RetentionSnapshot[]> {
  const { rows } = await db.query<Row>(
    `select s.hex, s.committed_at, s.taken_at, s.forgotten_at, st.name as site, ss.state
     from snapshots s
     join datasets d on d.id = s.dataset_id
     left join snapshot_sites ss on ss.snapshot_id = s.id
     left join sites st on st.id = ss.site_id and st.removed_at is null
     where d.name = $1 and s.committed_at is not null
     order by s.committed_at desc, s.id desc, st.name`,
    [dataset],
  );
  const out: RetentionSnapshot[] = [];
  const byId = new Map<string, RetentionSnapshot>();
  for (const r of rows) {
    let snap = byId.get(r.hex);
    if (snap === undefined) {
      snap = {
        id: r.hex,
        committedAt: date(r.committed_at),
        takenAt: date(r.taken_at),
        forgottenAt: dateOrNull(r.forgotten_at),
        sites: [],
      };
      byId.set(r.hex, snap);
      out.push(snap);
    }
    if (r.site !== null && r.state !== null) snap.sites.push({ site: r.site, state: r.state });
  }
  return out;
}

/**
 * Records the decision to forget a snapshot (idempotent: the first decision's time stays). The
 * per-site states change only as manifests are actually deleted.
 */
export async function markForgotten(db: CatalogDb, id: Hex64, by: string): Promise<Date> {
  const { rows } = await db.query<{ forgotten_at: unknown }>(
    `update snapshots set forgotten_at = coalesce(forgotten_at, now()), forgotten_by = coalesce(forgotten_by, $2)
     where hex = $1 returning forgotten_at`,
    [id, by],
  );
  return date(one(rows, () => `snapshot ${id} is not in the catalog`).forgotten_at);
}
