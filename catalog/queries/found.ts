// What a rebuild found at a site (`georep catalog rebuild --from-site`), recorded without
// inventing times: a pack found there has no upload time (uploaded_at stays null unless the
// catalog knew it already), and a snapshot found committed there takes the commit time the
// catalog knew, else the one the caller gives (the manifest's time: the best a site tells).
// Recording the same finding again changes nothing, so a rebuild can run any number of times.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { snapshotId } from './snapshots.ts';
import { siteId } from './sites.ts';

/** Marks (recorded) packs present or missing at a site, in one statement. Returns the rows changed. */
export async function notePacksAt(
  db: CatalogDb,
  site: string,
  packs: readonly Hex64[],
  state: 'present' | 'missing',
): Promise<number> {
  if (packs.length === 0) return 0;
  const sid = await siteId(db, site);
  const { rows } = await db.query(
    `insert into pack_sites (pack_id, site_id, state)
     select p.id, $1::bigint, $2::text from packs p where p.hex = any($3::text[])
     on conflict (pack_id, site_id) do update set state = excluded.state, updated_at = now()
       where pack_sites.state is distinct from excluded.state
     returning pack_id`,
    [sid, state, packs],
  );
  return rows.length;
}

/**
 * Records a snapshot committed at a site, as found there (its manifest and every pack it needs are
 * at the site). A site already recorded as committed keeps its row as it is.
 */
export async function noteCommittedAt(db: CatalogDb, snapshot: Hex64, site: string, committedAt: Date): Promise<boolean> {
  const snap = await snapshotId(db, snapshot);
  const sid = await siteId(db, site);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `insert into snapshot_sites (snapshot_id, site_id, state, committed_at)
       values ($1, $2, 'committed', $3::timestamptz)
       on conflict (snapshot_id, site_id) do update set
         state = 'committed',
         error = null,
         committed_at = coalesce(snapshot_sites.committed_at, excluded.committed_at),
         updated_at = now()
       where snapshot_sites.state <> 'committed'
       returning snapshot_id`,
      [snap, sid, committedAt.toISOString()],
    );
    await tx.query('update snapshots set committed_at = $2::timestamptz where id = $1 and committed_at is null', [
      snap,
      committedAt.toISOString(),
    ]);
    return rows.length > 0;
  });
}

/**
 * Records a snapshot whose manifest is at the site but which cannot be restored from there (packs
 * missing, trees damaged): 'failed' with why. Unchanged when that is already recorded.
 */
export async function noteDamagedAt(db: CatalogDb, snapshot: Hex64, site: string, error: string): Promise<boolean> {
  const snap = await snapshotId(db, snapshot);
  const sid = await siteId(db, site);
  const { rows } = await db.query(
    `insert into snapshot_sites (snapshot_id, site_id, state, error) values ($1, $2, 'failed', $3)
     on conflict (snapshot_id, site_id) do update set state = 'failed', error = excluded.error, updated_at = now()
       where snapshot_sites.state <> 'failed' or snapshot_sites.error is distinct from excluded.error
     returning snapshot_id`,
    [snap, sid, error],
  );
  return rows.length > 0;
}
