// What the daemon's /metrics reads from the catalog at each scrape: the job queue by state, and per
// contract and site how old the newest committed snapshot is, by the database clock.
import type { CatalogDb } from '../db.ts';
import { num } from './rows.ts';

export async function jobsByState(db: CatalogDb): Promise<Map<string, number>> {
  const { rows } = await db.query<{ state: string; n: unknown }>('select state, count(*) as n from jobs group by state');
  return new Map(rows.map((r) => [r.state, num(r.n)]));
}

export interface SnapshotAge {
  contract: string;
  site: string;
  ageSeconds: number;
}

/**
 * For each contract (its newest version's dataset) and site that has committed one of its
 * snapshots (forgotten ones aside): seconds since the newest such commit.
 */
export async function lastSnapshotAges(db: CatalogDb): Promise<SnapshotAge[]> {
  const { rows } = await db.query<{ contract: string; site: string; age: unknown }>(
    `with latest as (
       select distinct on (v.contract_id) v.contract_id, v.parsed->'dataset'->>'name' as dataset
       from contract_versions v order by v.contract_id, v.version desc
     )
     select c.name as contract, t.name as site,
       extract(epoch from now() - max(ss.committed_at))::double precision as age
     from latest l join contracts c on c.id = l.contract_id
     join datasets d on d.name = l.dataset
     join snapshots s on s.dataset_id = d.id and s.forgotten_at is null
     join snapshot_sites ss on ss.snapshot_id = s.id and ss.state = 'committed'
     join sites t on t.id = ss.site_id
     group by c.name, t.name order by c.name, t.name`,
  );
  return rows.map((r) => ({ contract: r.contract, site: r.site, ageSeconds: Number(r.age) }));
}
