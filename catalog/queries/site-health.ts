// What placement needs to know about each registered site beyond its row: how many bytes of packs
// the catalog knows it holds, and whether it failed recently (a snapshot left behind or failed
// there within the window), with the newest reason.
import type { CatalogDb } from '../db.ts';
import { num } from './rows.ts';

export interface SiteHealth {
  site: string;
  usedBytes: number;
  /** The newest failure within the window, or null. */
  recentFailure: string | null;
}

export async function siteHealth(db: CatalogDb, hours = 24): Promise<SiteHealth[]> {
  const { rows } = await db.query<{ name: string; used: unknown; failure: string | null }>(
    `select st.name,
       coalesce((select sum(p.size) from pack_sites ps join packs p on p.id = ps.pack_id
                 where ps.site_id = st.id and ps.state = 'present'), 0) as used,
       (select coalesce(f.error, f.state) from snapshot_sites f
        where f.site_id = st.id and f.state in ('behind', 'failed') and f.updated_at > now() - $1 * interval '1 hour'
        order by f.updated_at desc limit 1) as failure
     from sites st where st.removed_at is null order by st.name`,
    [hours],
  );
  return rows.map((r) => ({ site: r.name, usedBytes: num(r.used), recentFailure: r.failure }));
}
