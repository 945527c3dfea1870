// Where a snapshot can be restored from: the live sites the catalog says hold it committed,
// healthiest first. A site is unhealthy when it failed recently (by the database clock): a
// snapshot still behind or failed there, updated within the window, or a restore that had to
// switch away from it (audit action `restore.failover`, subject the site's name). Then the order
// of registration. (Probed latency would come between the two, but probes do not store it yet.)
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { dateOrNull } from './rows.ts';

/** The audit action a restore appends, per site it switched away from. */
export const RESTORE_FAILOVER_ACTION = 'restore.failover';

export interface RestoreSource {
  site: string;
  /** When it committed there (database clock; a rebuild's best guess), if known. */
  committedAt: Date | null;
  recentFailure: boolean;
}

/**
 * Snapshot ids a reference names among the snapshots committed at some live site: `latest` (the
 * newest by its manifest's time), a full id, or a prefix (every match, at most `limit`).
 */
export async function committedSnapshots(db: CatalogDb, ref: string, limit = 2): Promise<Hex64[]> {
  const latest = ref === 'latest';
  const { rows } = await db.query<{ hex: string }>(
    `select s.hex from snapshots s
     where ($1::boolean or s.hex like $2 || '%')
       and exists (
         select 1 from snapshot_sites ss join sites st on st.id = ss.site_id
         where ss.snapshot_id = s.id and ss.state = 'committed' and st.removed_at is null)
     order by s.taken_at desc, s.id desc
     limit $3`,
    [latest, latest ? '' : ref, latest ? 1 : limit],
  );
  return rows.map((r) => r.hex);
}

/** The live sites holding the snapshot committed, healthiest first; failures count within `hours`. */
export async function restoreSources(db: CatalogDb, snapshot: Hex64, hours = 24): Promise<RestoreSource[]> {
  const { rows } = await db.query<{ name: string; committed_at: unknown; recent_failure: boolean }>(
    `select st.name, ss.committed_at,
       (exists (
          select 1 from snapshot_sites f
          where f.site_id = st.id and f.state in ('behind', 'failed') and f.updated_at > now() - $2 * interval '1 hour')
        or exists (
          select 1 from audit_log a
          where a.action = $3 and a.subject = st.name and a.at > now() - $2 * interval '1 hour')) as recent_failure
     from snapshot_sites ss
     join snapshots s on s.id = ss.snapshot_id
     join sites st on st.id = ss.site_id
     where s.hex = $1 and ss.state = 'committed' and st.removed_at is null
     order by recent_failure, st.id`,
    [snapshot, hours, RESTORE_FAILOVER_ACTION],
  );
  return rows.map((r) => ({ site: r.name, committedAt: dateOrNull(r.committed_at), recentFailure: r.recent_failure }));
}
