// Verifier findings (migration 4): what `georep verify` found wrong with one object at one site,
// open until a later verify finds the object sound (or gone) or `georep repair` heals it. At most
// one open finding per (site, object, kind): a finding seen again moves last_seen_at. Also what a
// scrub expects at a site (the packs and committed snapshots the catalog records there) and the
// pack states it learns (verified_at for packs read sound; missing/damaged for packs found so).
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { siteId } from './sites.ts';
import { date, dateOrNull, num } from './rows.ts';

export type FindingKind = 'missing' | 'corrupt' | 'wrong-size' | 'unexpected' | 'unreadable';
export type FindingLevel = 'list' | 'checksum' | 'deep';
export type FindingResolution = 'repaired' | 'sound' | 'gone';

export interface FindingRecord {
  id: number;
  site: string;
  /** The object's key at the site; '*' for the site as a whole (an unreadable site whose listing failed). */
  key: string;
  kind: FindingKind;
  level: FindingLevel;
  detail: string;
  runId: number | null;
  foundAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  resolution: FindingResolution | null;
}

interface FindingRow {
  id: unknown;
  site: string;
  object_key: string;
  kind: FindingKind;
  level: FindingLevel;
  detail: string;
  run_id: unknown;
  found_at: unknown;
  last_seen_at: unknown;
  resolved_at: unknown;
  resolution: FindingResolution | null;
}

const toFinding = (r: FindingRow): FindingRecord => ({
  id: num(r.id),
  site: r.site,
  key: r.object_key,
  kind: r.kind,
  level: r.level,
  detail: r.detail,
  runId: r.run_id === null ? null : num(r.run_id),
  foundAt: date(r.found_at),
  lastSeenAt: date(r.last_seen_at),
  resolvedAt: dateOrNull(r.resolved_at),
  resolution: r.resolution,
});

/** Open findings, oldest first; of one live site, or of every site. */
export async function listOpenFindings(db: CatalogDb, filter: { site?: string } = {}): Promise<FindingRecord[]> {
  const { rows } = await db.query<FindingRow>(
    `select f.id, s.name as site, f.object_key, f.kind, f.level, f.detail, f.run_id, f.found_at, f.last_seen_at,
       f.resolved_at, f.resolution
     from findings f join sites s on s.id = f.site_id
     where f.resolved_at is null and ($1::text is null or (s.name = $1 and s.removed_at is null))
     order by f.found_at, f.id`,
    [filter.site ?? null],
  );
  return rows.map(toFinding);
}

export interface NewFinding {
  key: string;
  kind: FindingKind;
  detail: string;
}

export interface FindingChanges {
  site: string;
  level: FindingLevel;
  runId: number | null;
  insert: readonly NewFinding[];
  /** Open findings seen again: last_seen_at moves. */
  touch: readonly number[];
  resolve: readonly { id: number; resolution: FindingResolution }[];
}

/** Applies one scrub's reconciliation in one transaction. */
export async function applyFindingChanges(db: CatalogDb, changes: FindingChanges): Promise<void> {
  const sid = await siteId(db, changes.site);
  await db.transaction(async (tx) => {
    if (changes.insert.length > 0) {
      await tx.query(
        `insert into findings (site_id, repository_id, object_key, kind, level, detail, run_id)
         select $1::bigint,
           (select repository_id from site_repositories where site_id = $1 order by since limit 1),
           f.key, f.kind, $2::text, f.detail, $3::bigint
         from unnest($4::text[], $5::text[], $6::text[]) as f(key, kind, detail)
         on conflict (site_id, object_key, kind) where resolved_at is null
           do update set last_seen_at = now(), detail = excluded.detail, run_id = excluded.run_id`,
        [sid, changes.level, changes.runId, changes.insert.map((f) => f.key), changes.insert.map((f) => f.kind), changes.insert.map((f) => f.detail)],
      );
    }
    if (changes.touch.length > 0) {
      await tx.query('update findings set last_seen_at = now(), run_id = coalesce($2, run_id) where id = any($1::bigint[]) and resolved_at is null', [
        changes.touch,
        changes.runId,
      ]);
    }
    for (const resolution of ['sound', 'gone', 'repaired'] as const) {
      const ids = changes.resolve.filter((r) => r.resolution === resolution).map((r) => r.id);
      if (ids.length === 0) continue;
      await tx.query(
        `update findings set resolved_at = now(), resolution = $2 where id = any($1::bigint[]) and site_id = $3 and resolved_at is null`,
        [ids, resolution, sid],
      );
    }
  });
}

/** Resolves every open finding of these kinds for one object at a site as repaired. */
export async function resolveRepaired(db: CatalogDb, site: string, key: string, kinds: readonly FindingKind[]): Promise<number> {
  const sid = await siteId(db, site);
  const { rows } = await db.query(
    `update findings set resolved_at = now(), resolution = 'repaired'
     where site_id = $1 and object_key = $2 and kind = any($3::text[]) and resolved_at is null returning id`,
    [sid, key, kinds],
  );
  return rows.length;
}

/** Resolves the open unexpected finding of an object removed at the operator's request as gone. */
export async function resolveGone(db: CatalogDb, site: string, key: string): Promise<void> {
  const sid = await siteId(db, site);
  await db.query(
    `update findings set resolved_at = now(), resolution = 'gone'
     where site_id = $1 and object_key = $2 and kind = 'unexpected' and resolved_at is null`,
    [sid, key],
  );
}

export interface ExpectedAtSite {
  packs: Map<Hex64, { size: number; verifiedAt: Date | null }>;
  snapshots: Set<Hex64>;
}

/**
 * What the catalog says the site holds: packs recorded there (present, or found missing or
 * damaged earlier: they belong there still) and the snapshots committed there.
 */
export async function expectedAt(db: CatalogDb, site: string): Promise<ExpectedAtSite> {
  const sid = await siteId(db, site);
  const packs = await db.query<{ hex: string; size: unknown; verified_at: unknown }>(
    `select p.hex, p.size, ps.verified_at from pack_sites ps join packs p on p.id = ps.pack_id
     where ps.site_id = $1 and ps.state in ('present', 'missing', 'damaged')`,
    [sid],
  );
  const snaps = await db.query<{ hex: string }>(
    `select s.hex from snapshot_sites ss join snapshots s on s.id = ss.snapshot_id
     where ss.site_id = $1 and ss.state = 'committed'`,
    [sid],
  );
  return {
    packs: new Map(packs.rows.map((r) => [r.hex, { size: num(r.size), verifiedAt: dateOrNull(r.verified_at) }])),
    snapshots: new Set(snaps.rows.map((r) => r.hex)),
  };
}

/**
 * Records what a scrub or repair learnt about the catalog's packs at a site: packs read sound
 * (deep: every blob authenticated) get verified_at = now() and state present; packs replaced by
 * repair (hash-checked, not decrypted) get state present and verified_at cleared, so a sampled
 * verify reads them first; packs found missing or
 * damaged get that state. Packs the
 * catalog does not record at the site are left alone (nothing to stamp).
 */
export async function notePackChecks(
  db: CatalogDb,
  site: string,
  checks: { sound?: readonly Hex64[]; replaced?: readonly Hex64[]; missing?: readonly Hex64[]; damaged?: readonly Hex64[] },
): Promise<void> {
  const sid = await siteId(db, site);
  const update = async (packs: readonly Hex64[] | undefined, set: string): Promise<void> => {
    if (packs === undefined || packs.length === 0) return;
    await db.query(
      `update pack_sites ps set ${set}, updated_at = now() from packs p
       where p.id = ps.pack_id and ps.site_id = $1 and p.hex = any($2::text[])`,
      [sid, packs],
    );
  };
  await update(checks.sound, `state = 'present', verified_at = now()`);
  await update(checks.replaced, `state = 'present', verified_at = null`);
  await update(checks.missing, `state = 'missing'`);
  await update(checks.damaged, `state = 'damaged'`);
}
