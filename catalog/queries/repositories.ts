// Repositories (by the id in their config) and which sites hold them. One repository is normally
// held by every site of a contract: the same encrypted objects are shipped to each.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { siteId } from './sites.ts';
import { date, num, one } from './rows.ts';

/** Records a repository id; recording it again is a no-op. */
export async function ensureRepository(db: CatalogDb, repository: Hex64): Promise<void> {
  await db.query('insert into repositories (hex) values ($1) on conflict (hex) do nothing', [repository]);
}

/** Records that a site holds the repository (recording the repository too). Idempotent. */
export async function attachRepository(db: CatalogDb, site: string, repository: Hex64): Promise<void> {
  const sid = await siteId(db, site);
  await ensureRepository(db, repository);
  await db.query(
    `insert into site_repositories (site_id, repository_id)
     select $1::bigint, id from repositories where hex = $2
     on conflict do nothing`,
    [sid, repository],
  );
}

export interface SiteRepository {
  repository: Hex64;
  since: Date;
}

/** The repositories a live site holds, oldest first. */
export async function listSiteRepositories(db: CatalogDb, site: string): Promise<SiteRepository[]> {
  const sid = await siteId(db, site);
  const { rows } = await db.query<{ hex: string; since: unknown }>(
    `select r.hex, sr.since from site_repositories sr join repositories r on r.id = sr.repository_id
     where sr.site_id = $1 order by sr.since, r.hex`,
    [sid],
  );
  return rows.map((r) => ({ repository: r.hex, since: date(r.since) }));
}

/** The internal id of a recorded repository, for the other query files. */
export async function repositoryId(db: CatalogDb, repository: Hex64): Promise<number> {
  const { rows } = await db.query<{ id: unknown }>('select id from repositories where hex = $1', [repository]);
  return num(one(rows, () => `repository ${repository} is not in the catalog`).id);
}
