// What `georep ship` must catch up according to the catalog: snapshots some live registered site
// has not committed (pending, uploading, behind), with the live sites that have (where the
// objects can be copied from when local staging no longer holds them). A 'failed' state is not
// caught up here: it means the site holds the manifest but is damaged (a rebuild found packs
// missing), which is repair's work, not shipping's (shipping sees the manifest and stops). A
// forgotten snapshot is never caught up: retention dropped it.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';

export interface CatchUp {
  snapshot: Hex64;
  repository: Hex64;
  /** Live sites that have not committed it, by name. */
  behind: string[];
  /** Live sites that have committed it, by name. */
  committed: string[];
}

/** Snapshots behind at some live site, oldest first (a later one may deduplicate against them). */
export async function snapshotsToCatchUp(db: CatalogDb): Promise<CatchUp[]> {
  const { rows } = await db.query<{ hex: string; repository: string; site: string; state: string }>(
    `select s.hex, r.hex as repository, st.name as site, ss.state
     from snapshot_sites ss
     join snapshots s on s.id = ss.snapshot_id
     join repositories r on r.id = s.repository_id
     join sites st on st.id = ss.site_id
     where st.removed_at is null and s.forgotten_at is null
       and s.id in (
         select ss2.snapshot_id from snapshot_sites ss2 join sites st2 on st2.id = ss2.site_id
         where st2.removed_at is null and ss2.state in ('pending', 'uploading', 'behind'))
     order by s.taken_at, s.id, st.id`,
  );
  const out = new Map<Hex64, CatchUp>();
  for (const row of rows) {
    let entry = out.get(row.hex);
    if (entry === undefined) {
      entry = { snapshot: row.hex, repository: row.repository, behind: [], committed: [] };
      out.set(row.hex, entry);
    }
    if (row.state === 'committed') entry.committed.push(row.site);
    else if (row.state === 'pending' || row.state === 'uploading' || row.state === 'behind') entry.behind.push(row.site);
  }
  return [...out.values()];
}
