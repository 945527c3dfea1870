// What the catalog knows about each live site's state, for placement: bytes of packs present there
// (its use against a quota), and recent failures by the database clock (a snapshot behind or
// failed there, or a restore that had to switch away from it), the same signal restore uses.
import type { CatalogDb } from '../db.ts';
import { num } from './rows.ts';
import { RESTORE_FAILOVER_ACTION } from './sources.ts';

export interface SiteHealth {
  site: string;
  usedBytes: number;
  /** Snapshots behind or failed there, updated within the window. */
  recentBehind: number;
  /** Restores that switched away from it within the window. */
  recentFailovers: number;
}

export async function siteHealth(db: CatalogDb, hours = 24): Promise<SiteHealth[]> {
  const { rows } = await db.query<{ name: string; used: unknown; behind: unknown; failovers: unknown }>(
    `select st.name,
       coalesce((select sum(p.size) from pack_sites ps join packs p on p.id = ps.pack_id
                 where ps.site_id = st.id and ps.state = 'present'), 0) as used,
       (select count(*) from snapshot_sites f
        where f.site_id = st.id and f.state in ('behind', 'failed') and f.updated_at > now() - $1 * interval '1 hour') as behind,
       (select count(*) from audit_log a
        where a.action = $2 and a.subject = st.name and a.at > now() - $1 * interval '1 hour') as failovers
     from sites st where st.removed_at is null order by st.name`,
    [hours, RESTORE_FAILOVER_ACTION],
  );
  return rows.map((r) => ({ site: r.name, usedBytes: num(r.used), recentBehind: num(r.behind), recentFailovers: num(r.failovers) }));
}
