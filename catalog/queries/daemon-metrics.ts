// What the daemon's /metrics reads from the catalog at each scrape (every 15 s or so, from every
// daemon): the job queue, and per contract and site the newest committed snapshot's age, what is
// still to ship there, the last ship and the last drill there; open findings per site. Each query
// walks indexes from a small start (live sites, contracts, open jobs, open findings, snapshots
// behind somewhere), never every pack or every run. "now" is the database clock.
import type { CatalogDb } from '../db.ts';
import { num } from './rows.ts';

export async function jobsByState(db: CatalogDb): Promise<Map<string, number>> {
  const { rows } = await db.query<{ state: string; n: unknown }>('select state, count(*) as n from jobs group by state');
  return new Map(rows.map((r) => [r.state, num(r.n)]));
}

/** The contract's newest version's dataset, by contract: every per-contract query starts here. */
const LATEST = `latest as (
  select distinct on (v.contract_id) v.contract_id, c.name as contract, d.id as dataset_id
  from contract_versions v join contracts c on c.id = v.contract_id
  join datasets d on d.name = v.parsed->'dataset'->>'name'
  order by v.contract_id, v.version desc
)`;

export type QueueState = 'due' | 'waiting' | 'running';

export interface QueueDepth {
  kind: string;
  /**
   * due: pending with its tick passed and no backoff ahead (claimable now); waiting: pending, its
   * tick or its backoff (not_before) still ahead; running: leased.
   */
  state: QueueState;
  count: number;
}

/** Unfinished jobs by kind and state (the jobs_open index); skewMs moves the clock in tests only. */
export async function jobQueue(db: CatalogDb, skewMs = 0): Promise<QueueDepth[]> {
  const { rows } = await db.query<{ kind: string; state: QueueState; n: unknown }>(
    `select kind, case when state = 'running' then 'running'
         when tick <= now() + $1::double precision * interval '1 millisecond'
           and (not_before is null or not_before <= now() + $1::double precision * interval '1 millisecond') then 'due'
         else 'waiting' end as state,
       count(*) as n
     from jobs where state in ('pending', 'running') group by 1, 2 order by 1, 2`,
    [skewMs],
  );
  return rows.map((r) => ({ kind: r.kind, state: r.state, count: num(r.n) }));
}

export interface PendingAtSite {
  contract: string;
  site: string;
  /** Snapshots committed at another site, not (yet) here: pending, uploading or behind here. */
  snapshots: number;
  /** Distinct packs those snapshots need that the catalog does not know present here, and their bytes. */
  packs: number;
  bytes: number;
}

/**
 * What each live site still lacks of the contract's dataset. Starts from the snapshot_sites rows
 * not committed (pending, uploading, behind: the snapshot_sites_site index per live site), then
 * their packs (snapshot_packs' key) and whether each is present here (pack_sites' key).
 */
export async function pendingAtSites(db: CatalogDb): Promise<PendingAtSite[]> {
  const { rows } = await db.query<{ contract: string; site: string; snapshots: unknown; packs: unknown; bytes: unknown }>(
    `with ${LATEST},
     behind as (
       select l.contract, st.name as site, ss.site_id, ss.snapshot_id
       from sites st
       join snapshot_sites ss on ss.site_id = st.id and ss.state in ('pending', 'uploading', 'behind')
       join snapshots s on s.id = ss.snapshot_id and s.forgotten_at is null
       join latest l on l.dataset_id = s.dataset_id
       where st.removed_at is null
         and exists (select 1 from snapshot_sites o join sites ot on ot.id = o.site_id
                     where o.snapshot_id = ss.snapshot_id and o.site_id <> ss.site_id and o.state = 'committed'
                       and ot.removed_at is null)
     ),
     lacking as (
       select distinct b.contract, b.site, p.id, p.size
       from behind b join snapshot_packs sp on sp.snapshot_id = b.snapshot_id join packs p on p.id = sp.pack_id
       where not exists (select 1 from pack_sites ps where ps.pack_id = p.id and ps.site_id = b.site_id and ps.state = 'present')
     )
     select b.contract, b.site, b.snapshots, coalesce(x.packs, 0) as packs, coalesce(x.bytes, 0) as bytes
     from (select contract, site, count(distinct snapshot_id) as snapshots from behind group by 1, 2) b
     left join (select contract, site, count(*) as packs, sum(size) as bytes from lacking group by 1, 2) x
       on x.contract = b.contract and x.site = b.site
     order by 1, 2`,
  );
  return rows.map((r) => ({ contract: r.contract, site: r.site, snapshots: num(r.snapshots), packs: num(r.packs), bytes: num(r.bytes) }));
}

export interface LastShip {
  contract: string;
  site: string;
  /** How long shipping the snapshot to the site took, as the shipper measured it. */
  seconds: number;
  state: 'committed' | 'behind';
  /** Bytes of packs uploaded by that ship (0 when the site had them all). */
  bytesUploaded: number;
}

/**
 * The last ship of the contract's dataset to each live site: of the newest snapshot (committed
 * somewhere) the site committed or fell behind on, the newest `snapshot.ship` audit entry for that
 * site (the shipper records the outcome and its duration there; audit_log is indexed by subject).
 * Newest by first commit, walking snapshots_dataset backwards; a snapshot no site committed is
 * not a ship to compare with.
 */
export async function lastShips(db: CatalogDb): Promise<LastShip[]> {
  const { rows } = await db.query<{ contract: string; site: string; details: Record<string, unknown> }>(
    `with ${LATEST}
     select l.contract, st.name as site, a.details
     from latest l cross join sites st
     cross join lateral (
       select s.hex from snapshots s
       join snapshot_sites ss on ss.snapshot_id = s.id and ss.site_id = st.id and ss.state in ('committed', 'behind')
       where s.dataset_id = l.dataset_id and s.committed_at is not null
       order by s.committed_at desc limit 1
     ) n
     cross join lateral (
       select a.details from audit_log a
       where a.subject = n.hex and a.action = 'snapshot.ship' and a.details->>'site' = st.name
       order by a.id desc limit 1
     ) a
     where st.removed_at is null
     order by 1, 2`,
  );
  return rows.map((r) => ({
    contract: r.contract,
    site: r.site,
    seconds: Number(r.details.seconds ?? 0),
    state: r.details.state === 'committed' ? 'committed' : 'behind',
    bytesUploaded: Number(r.details.bytesUploaded ?? 0),
  }));
}

export interface LastDrill {
  contract: string;
  site: string;
  outcome: 'passed' | 'failed' | 'error';
  /** Since the drill finished. */
  ageSeconds: number;
  /** The restore's time to first byte and in total (the RTO figure); null when it did not get that far. */
  firstByteSeconds: number | null;
  totalSeconds: number | null;
  /** How old the drilled snapshot was when the drill started. */
  snapshotAgeSeconds: number | null;
}

/** The last finished drill of each contract at each site (drills_contract index, newest first). */
export async function lastDrills(db: CatalogDb): Promise<LastDrill[]> {
  const { rows } = await db.query<{
    contract: string;
    site: string;
    outcome: LastDrill['outcome'];
    age: unknown;
    first_byte_ms: unknown;
    total_ms: unknown;
    snapshot_age_ms: unknown;
  }>(
    `select c.name as contract, st.name as site, d.outcome,
       extract(epoch from now() - d.finished_at)::double precision as age,
       d.first_byte_ms, d.total_ms, d.snapshot_age_ms
     from contracts c cross join sites st
     cross join lateral (
       select * from drills d where d.contract_id = c.id and d.site_id = st.id and d.outcome is not null
       order by d.started_at desc, d.id desc limit 1
     ) d
     where st.removed_at is null
     order by 1, 2`,
  );
  const sec = (ms: unknown): number | null => (ms === null || ms === undefined ? null : num(ms) / 1000);
  return rows.map((r) => ({
    contract: r.contract,
    site: r.site,
    outcome: r.outcome,
    ageSeconds: Number(r.age),
    firstByteSeconds: sec(r.first_byte_ms),
    totalSeconds: sec(r.total_ms),
    snapshotAgeSeconds: sec(r.snapshot_age_ms),
  }));
}

export interface OpenFindingCount {
  site: string;
  kind: string;
  count: number;
}

/** Open (unresolved) findings by live site and kind: the findings_open index holds only those. */
export async function openFindingsBySite(db: CatalogDb): Promise<OpenFindingCount[]> {
  const { rows } = await db.query<{ site: string; kind: string; n: unknown }>(
    `select st.name as site, f.kind, count(*) as n
     from findings f join sites st on st.id = f.site_id
     where f.resolved_at is null and st.removed_at is null
     group by 1, 2 order by 1, 2`,
  );
  return rows.map((r) => ({ site: r.site, kind: r.kind, count: num(r.n) }));
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
