// Object Lock bookkeeping: which packs of a dataset's kept snapshots a site holds, and until when
// the site was last seen to keep each one locked. Lock extension asks for the packs whose date
// is unknown or comes before a threshold, extends them at the site, and records the new date.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { siteId } from './sites.ts';
import { date } from './rows.ts';

/**
 * Packs present at the site that some kept (not forgotten) snapshot of the dataset, committed
 * there, needs, and whose recorded lock ends before `threshold` or is unknown.
 */
export async function packsToLock(db: CatalogDb, site: string, dataset: string, threshold: Date): Promise<Hex64[]> {
  const { rows } = await db.query<{ hex: string }>(
    `select distinct p.hex
     from snapshots s
     join datasets d on d.id = s.dataset_id
     join snapshot_sites ss on ss.snapshot_id = s.id
     join sites st on st.id = ss.site_id
     join snapshot_packs sp on sp.snapshot_id = s.id
     join packs p on p.id = sp.pack_id
     join pack_sites ps on ps.pack_id = p.id and ps.site_id = st.id
     where st.name = $1 and d.name = $2 and s.forgotten_at is null and ss.state = 'committed'
       and ps.state = 'present' and (ps.locked_until is null or ps.locked_until < $3::timestamptz)
     order by p.hex`,
    [site, dataset, threshold.toISOString()],
  );
  return rows.map((r) => r.hex);
}

/** Kept snapshots of the dataset committed at the site: their manifests stay locked too. */
export async function keptSnapshotsAt(db: CatalogDb, site: string, dataset: string): Promise<Hex64[]> {
  const { rows } = await db.query<{ hex: string }>(
    `select s.hex from snapshots s
     join datasets d on d.id = s.dataset_id
     join snapshot_sites ss on ss.snapshot_id = s.id
     join sites st on st.id = ss.site_id
     where st.name = $1 and d.name = $2 and s.forgotten_at is null and ss.state = 'committed'
     order by s.committed_at, s.hex`,
    [site, dataset],
  );
  return rows.map((r) => r.hex);
}

export async function setPackLockedUntil(db: CatalogDb, pack: Hex64, site: string, until: Date): Promise<void> {
  const sid = await siteId(db, site);
  await db.query(
    `update pack_sites set locked_until = $3::timestamptz, updated_at = now()
     where site_id = $2 and pack_id = (select id from packs where hex = $1)`,
    [pack, sid, until.toISOString()],
  );
}

/** Until when the site keeps the pack locked, as last recorded (null: unknown). */
export async function packLockedUntil(db: CatalogDb, pack: Hex64, site: string): Promise<Date | null> {
  const { rows } = await db.query<{ locked_until: unknown }>(
    `select ps.locked_until from pack_sites ps join packs p on p.id = ps.pack_id join sites st on st.id = ps.site_id
     where p.hex = $1 and st.name = $2`,
    [pack, site],
  );
  const v = rows[0]?.locked_until;
  return v === null || v === undefined ? null : date(v);
}
