// Packs, which snapshot needs which, and where each pack is. Shipping asks packsMissingAt() what
// to upload before it may write a manifest at a site; the verifier stamps verified_at.
import type { BlobType, Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { CatalogNotFoundError } from '../errors.ts';
import { repositoryId } from './repositories.ts';
import { snapshotId } from './snapshots.ts';
import { siteId } from './sites.ts';
import { dateOrNull, num } from './rows.ts';

export type PackSiteState = 'uploading' | 'present' | 'missing' | 'damaged' | 'deleted';

export interface PackRef {
  id: Hex64;
  type: BlobType;
  size: number;
}

/** Records packs of a repository; packs already recorded are left as they are (content-addressed). */
export async function recordPacks(db: CatalogDb, repository: Hex64, packs: readonly PackRef[]): Promise<void> {
  if (packs.length === 0) return;
  const rid = await repositoryId(db, repository);
  await db.query(
    `insert into packs (hex, repository_id, type, size)
     select p.hex, $1::bigint, p.type, p.size from unnest($2::text[], $3::text[], $4::bigint[]) as p(hex, type, size)
     on conflict (hex) do nothing`,
    [rid, packs.map((p) => p.id), packs.map((p) => p.type), packs.map((p) => p.size)],
  );
}

/** Records that a snapshot needs these (recorded) packs. Idempotent. */
export async function linkSnapshotPacks(db: CatalogDb, snapshot: Hex64, packs: readonly Hex64[]): Promise<void> {
  if (packs.length === 0) return;
  const sid = await snapshotId(db, snapshot);
  await db.transaction(async (tx) => {
    const { rows: unknown } = await tx.query<{ hex: string }>(
      `select h.hex from unnest($1::text[]) as h(hex)
       where not exists (select 1 from packs p where p.hex = h.hex)`,
      [packs],
    );
    if (unknown.length > 0) {
      const some = unknown.slice(0, 3).map((r) => r.hex).join(', ');
      throw new CatalogNotFoundError(`${unknown.length} pack(s) of snapshot ${snapshot} are not recorded: ${some}`);
    }
    await tx.query(
      `insert into snapshot_packs (snapshot_id, pack_id)
       select $1::bigint, p.id from packs p where p.hex = any($2::text[])
       on conflict do nothing`,
      [sid, packs],
    );
  });
}

export interface PackSiteUpdate {
  pack: Hex64;
  site: string;
  state: PackSiteState;
  /** Stamp verified_at with the database clock: the pack was just read back and checked. */
  verified?: boolean;
}

/**
 * Sets where a pack stands at a site. 'present' stamps uploaded_at the first time (database clock);
 * verified stamps verified_at.
 */
export async function setPackSite(db: CatalogDb, update: PackSiteUpdate): Promise<void> {
  const site = await siteId(db, update.site);
  const { rows } = await db.query(
    `insert into pack_sites (pack_id, site_id, state, uploaded_at, verified_at)
     select p.id, $2::bigint, $3::text, case when $3::text = 'present' then now() end, case when $4::boolean then now() end
     from packs p where p.hex = $1
     on conflict (pack_id, site_id) do update set
       state = excluded.state,
       uploaded_at = coalesce(pack_sites.uploaded_at, excluded.uploaded_at),
       verified_at = coalesce(excluded.verified_at, pack_sites.verified_at),
       updated_at = now()
     returning pack_id`,
    [update.pack, site, update.state, update.verified ?? false],
  );
  if (rows.length === 0) throw new CatalogNotFoundError(`pack ${update.pack} is not in the catalog`);
}

export interface PackSiteStatus {
  site: string;
  state: PackSiteState;
  uploadedAt: Date | null;
  verifiedAt: Date | null;
}

/** Where a pack is, by site name. */
export async function listPackSites(db: CatalogDb, pack: Hex64): Promise<PackSiteStatus[]> {
  const { rows } = await db.query<{ site: string; state: PackSiteState; uploaded_at: unknown; verified_at: unknown }>(
    `select s.name as site, ps.state, ps.uploaded_at, ps.verified_at
     from pack_sites ps join packs p on p.id = ps.pack_id join sites s on s.id = ps.site_id
     where p.hex = $1 order by s.name`,
    [pack],
  );
  return rows.map((r) => ({
    site: r.site,
    state: r.state,
    uploadedAt: dateOrNull(r.uploaded_at),
    verifiedAt: dateOrNull(r.verified_at),
  }));
}

/** The packs the snapshot needs that the site does not hold as 'present', by id. */
export async function packsMissingAt(db: CatalogDb, site: string, snapshot: Hex64): Promise<PackRef[]> {
  const [sid, snap] = [await siteId(db, site), await snapshotId(db, snapshot)];
  const { rows } = await db.query<{ hex: string; type: BlobType; size: unknown }>(
    `select p.hex, p.type, p.size
     from snapshot_packs sp join packs p on p.id = sp.pack_id
     where sp.snapshot_id = $1
       and not exists (
         select 1 from pack_sites ps where ps.pack_id = p.id and ps.site_id = $2 and ps.state = 'present')
     order by p.hex`,
    [snap, sid],
  );
  return rows.map((r) => ({ id: r.hex, type: r.type, size: num(r.size) }));
}
