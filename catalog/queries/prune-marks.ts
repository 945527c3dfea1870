// Prune marks (migration 2) and what prune asks the catalog before deleting: which writer runs are
// unfinished, and which packs snapshots still in flight or committed at a site need. Every time
// is the database clock's. See docs/ARCHITECTURE.md "Prune" for why each question is asked.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { repositoryId } from './repositories.ts';
import { siteId } from './sites.ts';
import { dateOrNull, num, numOrNull } from './rows.ts';
import { listUnfinishedRuns } from './runs.ts';

export interface PruneMark {
  pack: Hex64;
  size: number;
  /** When writers could first see it; null between the insert and its stamp (a crash there). */
  markedAt: Date | null;
  runId: number | null;
  /** Set once the pack was deleted at the site: a tombstone. */
  deletedAt: Date | null;
}

interface MarkRow {
  pack: string;
  size: unknown;
  marked_at: unknown;
  run_id: unknown;
  deleted_at: unknown;
}

/** Every mark at a site for one repository, tombstones included. */
export async function listMarks(db: CatalogDb, site: string, repository: Hex64): Promise<PruneMark[]> {
  // By the repository's hex, so a repository the catalog never recorded simply has no marks.
  const { rows } = await db.query<MarkRow>(
    `select m.pack, m.size, m.marked_at, m.run_id, m.deleted_at
     from prune_marks m join repositories r on r.id = m.repository_id
     where m.site_id = $1 and r.hex = $2 order by m.pack`,
    [await siteId(db, site), repository],
  );
  return rows.map((r) => ({
    pack: r.pack,
    size: num(r.size),
    markedAt: dateOrNull(r.marked_at),
    runId: numOrNull(r.run_id),
    deletedAt: dateOrNull(r.deleted_at),
  }));
}

/**
 * Marks packs at a site (phase 1), then stamps every unstamped mark of the site with now() in a
 * second statement: the rows are committed by then, so any run whose start is later reads them.
 * Returns the packs newly marked (already marked ones are left as they are).
 */
export async function addMarks(
  db: CatalogDb,
  site: string,
  repository: Hex64,
  packs: readonly { id: Hex64; size: number }[],
  runId: number | null,
): Promise<Hex64[]> {
  const [sid, rid] = [await siteId(db, site), await repositoryId(db, repository)];
  let added: Hex64[] = [];
  if (packs.length > 0) {
    const { rows } = await db.query<{ pack: string }>(
      `insert into prune_marks (site_id, repository_id, pack, size, run_id)
       select $1::bigint, $2::bigint, p.pack, p.size, $5::bigint
       from unnest($3::text[], $4::bigint[]) as p(pack, size)
       on conflict (site_id, pack) do nothing
       returning pack`,
      [sid, rid, packs.map((p) => p.id), packs.map((p) => p.size), runId],
    );
    added = rows.map((r) => r.pack);
  }
  await db.query('update prune_marks set marked_at = now() where site_id = $1 and marked_at is null', [sid]);
  return added;
}

/** Removes live marks (a snapshot references the packs again). Returns the packs unmarked. */
export async function removeMarks(db: CatalogDb, site: string, packs: readonly Hex64[]): Promise<Hex64[]> {
  if (packs.length === 0) return [];
  const sid = await siteId(db, site);
  const { rows } = await db.query<{ pack: string }>(
    `delete from prune_marks where site_id = $1 and pack = any($2::text[]) and deleted_at is null returning pack`,
    [sid, packs],
  );
  return rows.map((r) => r.pack);
}

/** The pack is gone from the site: its mark becomes a tombstone; pack_sites says 'deleted'. */
export async function noteMarkDeleted(db: CatalogDb, site: string, pack: Hex64): Promise<void> {
  const sid = await siteId(db, site);
  await db.transaction(async (tx) => {
    await tx.query('update prune_marks set deleted_at = coalesce(deleted_at, now()) where site_id = $1 and pack = $2', [
      sid,
      pack,
    ]);
    await tx.query(
      `update pack_sites set state = 'deleted', updated_at = now()
       where site_id = $1 and pack_id = (select id from packs where hex = $2)`,
      [sid, pack],
    );
  });
}

/** Packs marked (or deleted by prune) at any of these sites: what a writer must not deduplicate against. */
export async function packsMarkedAt(db: CatalogDb, sites: readonly string[]): Promise<Set<Hex64>> {
  if (sites.length === 0) return new Set();
  const { rows } = await db.query<{ pack: string }>(
    `select distinct m.pack from prune_marks m join sites s on s.id = m.site_id
     where s.name = any($1::text[]) and s.removed_at is null`,
    [sites],
  );
  return new Set(rows.map((r) => r.pack));
}

/** The run kinds that write snapshots: a pack may be in their dedup index while they run. */
export const WRITER_RUN_KINDS = ['snapshot', 'ship'] as const;

export interface OpenRun {
  id: number;
  kind: string;
  startedAt: Date;
  /** The owner's last refresh; null for a run from before migration 6. */
  heartbeatAt: Date | null;
  owner: { host: string; pid: number; token: string } | null;
  /** Why prune takes it for live (catalog/run-liveness.ts), once judged. */
  liveBy?: 'own' | 'pid-alive' | 'heartbeat';
}

/** Unfinished snapshot and ship runs, oldest first. */
export async function unfinishedWriterRuns(db: CatalogDb): Promise<OpenRun[]> {
  return (await listUnfinishedRuns(db, WRITER_RUN_KINDS)).map((r) => ({
    id: r.id,
    kind: r.kind,
    startedAt: r.startedAt,
    heartbeatAt: r.heartbeatAt,
    owner: r.owner,
  }));
}

/**
 * Packs the catalog says must stay at this site: those of snapshots of the repository committed
 * there, and those of snapshots still being shipped anywhere (pending, uploading or behind at some
 * site: a catch-up ship may copy them from here, and will commit a manifest that needs them).
 */
export async function packsKeptByCatalog(db: CatalogDb, site: string, repository: Hex64): Promise<Set<Hex64>> {
  const { rows } = await db.query<{ hex: string }>(
    `select distinct p.hex from snapshot_packs sp
     join packs p on p.id = sp.pack_id
     join snapshots s on s.id = sp.snapshot_id
     join repositories r on r.id = s.repository_id
     where r.hex = $2 and exists (
       select 1 from snapshot_sites ss where ss.snapshot_id = s.id
         and ((ss.site_id = $1 and ss.state = 'committed') or ss.state in ('pending', 'uploading', 'behind')))`,
    [await siteId(db, site), repository],
  );
  return new Set(rows.map((r) => r.hex));
}
