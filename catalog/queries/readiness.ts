// What the readiness report reads (verifier/report/): per site, the newest snapshot of a dataset
// committed there and the newest VERIFIED RESTORABLE there; drills; open findings; history for the
// charts. Read-only. Times are the database clock's, as recorded.
//
// Verified restorable (migration 4): a snapshot committed at a site is verified restorable there
// when a drill of it there passed, or a deep verify after its commit there read every pack it
// needs there (pack_sites 'present' with verified_at >= the site's commit time, for every pack in
// snapshot_packs; a snapshot with no packs recorded proves nothing). Either way, not while the
// catalog knows one of its packs to be missing, damaged or deleted there, or a finding is open on
// its manifest or one of its packs there: a later scrub that found damage outranks an old drill.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { date, dateOrNull, num } from './rows.ts';

export interface CommittedRef {
  snapshot: Hex64;
  /** When the snapshot was first committed anywhere (database clock): the age of its data counts from it. */
  dataAt: Date;
  /** When this site committed it. */
  siteAt: Date;
}

export interface VerifiedRef extends CommittedRef {
  /** The last passed drill of it at this site, if any. */
  drilledAt: Date | null;
  /** The last deep verify of its packs at this site, when every pack was read after the commit. */
  deepVerifiedAt: Date | null;
}

export interface SiteReadiness {
  site: string;
  newestCommitted: CommittedRef | null;
  newestVerified: VerifiedRef | null;
}

interface ReadinessRow {
  site: string;
  n_hex: string | null;
  n_data_at: unknown;
  n_site_at: unknown;
  v_hex: string | null;
  v_data_at: unknown;
  v_site_at: unknown;
  drilled_at: unknown;
  deep_verified_at: unknown;
}

// An object key as the verifier records it in findings (docs/FORMAT.md): data/<hh>/<hex>.
const PACK_KEY = `'data/' || substr(p.hex, 1, 2) || '/' || p.hex`;

/** Per live site, the newest committed and the newest verified restorable snapshot of the dataset. */
export async function siteReadiness(db: CatalogDb, dataset: string): Promise<SiteReadiness[]> {
  const { rows } = await db.query<ReadinessRow>(
    `with ds as (select id from datasets where name = $1)
     select st.name as site,
       n.hex as n_hex, n.data_at as n_data_at, n.site_at as n_site_at,
       v.hex as v_hex, v.data_at as v_data_at, v.site_at as v_site_at, v.drilled_at, v.deep_verified_at
     from sites st
     left join lateral (
       select s.hex, coalesce(s.committed_at, ss.committed_at) as data_at, ss.committed_at as site_at
       from snapshot_sites ss join snapshots s on s.id = ss.snapshot_id
       where ss.site_id = st.id and ss.state = 'committed' and s.dataset_id = (select id from ds)
       order by coalesce(s.committed_at, ss.committed_at) desc, s.id desc
       limit 1
     ) n on true
     left join lateral (
       select s.hex, coalesce(s.committed_at, ss.committed_at) as data_at, ss.committed_at as site_at,
         dr.drilled_at, dv.deep_verified_at
       from snapshot_sites ss
       join snapshots s on s.id = ss.snapshot_id
       cross join lateral (
         select max(d.finished_at) as drilled_at from drills d
         where d.snapshot = s.hex and d.site_id = st.id and d.outcome = 'passed'
       ) dr
       cross join lateral (
         select case when count(*) > 0
             and bool_and(coalesce(ps.state = 'present' and ps.verified_at >= ss.committed_at, false))
           then max(ps.verified_at) end as deep_verified_at
         from snapshot_packs sp left join pack_sites ps on ps.pack_id = sp.pack_id and ps.site_id = st.id
         where sp.snapshot_id = s.id
       ) dv
       where ss.site_id = st.id and ss.state = 'committed' and s.dataset_id = (select id from ds)
         and (dr.drilled_at is not null or dv.deep_verified_at is not null)
         and not exists (
           select 1 from snapshot_packs sp join packs p on p.id = sp.pack_id
           left join pack_sites ps on ps.pack_id = p.id and ps.site_id = st.id
           where sp.snapshot_id = s.id
             and (ps.state in ('missing', 'damaged', 'deleted')
               or exists (select 1 from findings f
                          where f.site_id = st.id and f.resolved_at is null and f.object_key = ${PACK_KEY})))
         and not exists (
           select 1 from findings f
           where f.site_id = st.id and f.resolved_at is null and f.object_key = 'snapshots/' || s.hex)
       order by coalesce(s.committed_at, ss.committed_at) desc, s.id desc
       limit 1
     ) v on true
     where st.removed_at is null
     order by st.name`,
    [dataset],
  );
  return rows.map((r) => ({
    site: r.site,
    newestCommitted: r.n_hex === null ? null : { snapshot: r.n_hex, dataAt: date(r.n_data_at), siteAt: date(r.n_site_at) },
    newestVerified:
      r.v_hex === null
        ? null
        : {
            snapshot: r.v_hex,
            dataAt: date(r.v_data_at),
            siteAt: date(r.v_site_at),
            drilledAt: dateOrNull(r.drilled_at),
            deepVerifiedAt: dateOrNull(r.deep_verified_at),
          },
  }));
}

export interface OpenFinding {
  site: string;
  objectKey: string;
  kind: 'missing' | 'corrupt' | 'wrong-size' | 'unexpected' | 'unreadable';
  level: 'list' | 'checksum' | 'deep';
  /** Free text from the verifier, possibly from what a site returned: never trust it in markup. */
  detail: string;
  foundAt: Date;
  lastSeenAt: Date;
}

// Findings that concern the dataset: those in the repositories its snapshots are in, and those
// the verifier could not tie to a repository (a site that did not answer at all).
const DATASET_FINDINGS = `from findings f join sites st on st.id = f.site_id
  where f.resolved_at is null and st.removed_at is null
    and (f.repository_id is null or f.repository_id in (
      select s.repository_id from snapshots s join datasets d on d.id = s.dataset_id where d.name = $1))`;

/** Open findings per live site and kind, for the dataset. */
export async function openFindingCounts(db: CatalogDb, dataset: string): Promise<{ site: string; kind: OpenFinding['kind']; count: number }[]> {
  const { rows } = await db.query<{ site: string; kind: OpenFinding['kind']; n: unknown }>(
    `select st.name as site, f.kind, count(*) as n ${DATASET_FINDINGS} group by st.name, f.kind order by st.name, f.kind`,
    [dataset],
  );
  return rows.map((r) => ({ site: r.site, kind: r.kind, count: num(r.n) }));
}

/** The most recently seen open findings for the dataset, at most `perSite` per site. */
export async function openFindingList(db: CatalogDb, dataset: string, perSite = 20): Promise<OpenFinding[]> {
  const { rows } = await db.query<{
    site: string;
    object_key: string;
    kind: OpenFinding['kind'];
    level: OpenFinding['level'];
    detail: string;
    found_at: unknown;
    last_seen_at: unknown;
  }>(
    `select site, object_key, kind, level, detail, found_at, last_seen_at from (
       select st.name as site, f.object_key, f.kind, f.level, f.detail, f.found_at, f.last_seen_at,
         row_number() over (partition by f.site_id order by f.last_seen_at desc, f.id desc) as n
       ${DATASET_FINDINGS}) x
     where n <= $2 order by site, last_seen_at desc, object_key`,
    [dataset, perSite],
  );
  return rows.map((r) => ({
    site: r.site,
    objectKey: r.object_key,
    kind: r.kind,
    level: r.level,
    detail: r.detail,
    foundAt: date(r.found_at),
    lastSeenAt: date(r.last_seen_at),
  }));
}

export interface CommitEvent {
  site: string;
  snapshot: Hex64;
  /** When the site committed it. */
  siteAt: Date;
  /** When it was first committed anywhere: the data's age counts from it. */
  dataAt: Date;
}

/**
 * Commits of the dataset's snapshots at live sites from `since` on, oldest first, plus at each
 * site the last commit before `since` (where the chart's line starts). Forgotten snapshots count:
 * they were restorable then. At most `limit` per site, the newest.
 */
export async function commitHistory(db: CatalogDb, dataset: string, since: Date, limit = 2000): Promise<CommitEvent[]> {
  const { rows } = await db.query<{ site: string; hex: string; site_at: unknown; data_at: unknown }>(
    `with ev as (
       select st.name as site, s.hex, ss.committed_at as site_at, coalesce(s.committed_at, ss.committed_at) as data_at,
         row_number() over (partition by ss.site_id order by ss.committed_at desc, s.id desc) as n,
         row_number() over (partition by ss.site_id, ss.committed_at < $2 order by ss.committed_at desc, s.id desc) as m
       from snapshot_sites ss
       join snapshots s on s.id = ss.snapshot_id
       join datasets d on d.id = s.dataset_id
       join sites st on st.id = ss.site_id
       where d.name = $1 and ss.committed_at is not null and st.removed_at is null)
     select site, hex, site_at, data_at from ev
     where n <= $3 and (site_at >= $2 or m = 1)
     order by site, site_at, hex`,
    [dataset, since, limit],
  );
  return rows.map((r) => ({ site: r.site, snapshot: r.hex, siteAt: date(r.site_at), dataAt: date(r.data_at) }));
}
