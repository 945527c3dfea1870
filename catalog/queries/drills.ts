// Restore drills (table `drills`, migration 4): a row is started when a drill begins (so a drill a
// killed process left behind is visible as unfinished) and finished once with its figures and
// verdict. The readiness report and `drill`'s own rotation read them back.
import type { Hex64 } from '../../repository/types.ts';
import type { CatalogDb } from '../db.ts';
import { CatalogConflictError } from '../errors.ts';
import { contractId } from './contracts.ts';
import { siteId } from './sites.ts';
import { date, dateOrNull, json, num, numOrNull, one } from './rows.ts';

export type DrillOutcome = 'passed' | 'failed' | 'error';

/**
 * One thing wrong with a drill. `site`: the drill could not read the site (outcome error);
 * `restore`: a file the restore could not write, or whose data failed its checks; `mismatch`: the
 * restored tree (or a restored database's row counts) differs from the snapshot; `check`: one of
 * the contract's SQL checks (verify.checks) failed in a restored database; `rto`: the restore
 * took longer than the contract allows.
 */
export interface DrillFailure {
  kind: 'site' | 'restore' | 'mismatch' | 'check' | 'rto';
  /** The path inside the snapshot, when the failure is about one. */
  path?: string;
  message: string;
}

export interface DrillRecord {
  id: number;
  contract: string | null;
  contractVersion: number | null;
  site: string;
  snapshot: Hex64;
  runId: number | null;
  startedAt: Date;
  finishedAt: Date | null;
  snapshotAgeMs: number | null;
  firstByteMs: number | null;
  totalMs: number | null;
  bytes: number | null;
  files: number | null;
  failures: DrillFailure[];
  rtoMs: number | null;
  /** null while the drill runs (or was killed). */
  outcome: DrillOutcome | null;
}

interface DrillRow {
  id: unknown;
  contract: string | null;
  contract_version: unknown;
  site: string;
  snapshot: string;
  run_id: unknown;
  started_at: unknown;
  finished_at: unknown;
  snapshot_age_ms: unknown;
  first_byte_ms: unknown;
  total_ms: unknown;
  bytes: unknown;
  files: unknown;
  failures: DrillFailure[];
  rto_ms: unknown;
  outcome: DrillOutcome | null;
}

const toDrill = (r: DrillRow): DrillRecord => ({
  id: num(r.id),
  contract: r.contract,
  contractVersion: numOrNull(r.contract_version),
  site: r.site,
  snapshot: r.snapshot,
  runId: numOrNull(r.run_id),
  startedAt: date(r.started_at),
  finishedAt: dateOrNull(r.finished_at),
  snapshotAgeMs: numOrNull(r.snapshot_age_ms),
  firstByteMs: numOrNull(r.first_byte_ms),
  totalMs: numOrNull(r.total_ms),
  bytes: numOrNull(r.bytes),
  files: numOrNull(r.files),
  failures: r.failures,
  rtoMs: numOrNull(r.rto_ms),
  outcome: r.outcome,
});

const COLUMNS = `d.id, c.name as contract, d.contract_version, st.name as site, d.snapshot, d.run_id,
    d.started_at, d.finished_at, d.snapshot_age_ms, d.first_byte_ms, d.total_ms, d.bytes, d.files,
    d.failures, d.rto_ms, d.outcome`;
const FROM = 'from drills d join sites st on st.id = d.site_id left join contracts c on c.id = d.contract_id';
const SELECT = `select ${COLUMNS} ${FROM}`;

/** A drill that ended: its figures and verdict are final. */
export type FinishedDrill = DrillRecord & { finishedAt: Date; outcome: DrillOutcome };

export interface StartDrillInput {
  contract: string;
  contractVersion: number;
  site: string;
  snapshot: Hex64;
  runId?: number | null;
  /** The contract's RTO now; null when it promises none. */
  rtoMs: number | null;
}

/**
 * Starts a drill row (database clock) and returns it with the snapshot's age at that moment:
 * now() minus the snapshot's first commit, both by the database clock (null when the catalog
 * never saw it committed).
 */
export async function startDrill(db: CatalogDb, input: StartDrillInput): Promise<DrillRecord> {
  const cid = await contractId(db, input.contract);
  const sid = await siteId(db, input.site);
  const { rows } = await db.query<{ id: unknown }>(
    `insert into drills (contract_id, contract_version, site_id, snapshot, run_id, rto_ms, snapshot_age_ms)
     values ($1, $2, $3, $4::text, $5, $6,
       (select greatest(0, floor(extract(epoch from (now() - s.committed_at)) * 1000))::bigint
        from snapshots s where s.hex = $4::text))
     returning id`,
    [cid, input.contractVersion, sid, input.snapshot, input.runId ?? null, input.rtoMs],
  );
  const id = num(one(rows, () => 'no drill id').id);
  return one(await selectDrills(db, 'd.id = $1', [id]), () => `drill ${id} vanished`);
}

export interface DrillFigures {
  firstByteMs: number | null;
  totalMs: number | null;
  bytes: number | null;
  files: number | null;
  failures: DrillFailure[];
  outcome: DrillOutcome;
}

/** Finishes a started drill (database clock). Finishing twice is a CatalogConflictError. */
export async function finishDrill(db: CatalogDb, id: number, figures: DrillFigures): Promise<DrillRecord> {
  const { rows } = await db.query(
    `update drills set finished_at = now(), first_byte_ms = $2, total_ms = $3, bytes = $4, files = $5,
       failures = $6::jsonb, outcome = $7
     where id = $1 and finished_at is null returning id`,
    [id, figures.firstByteMs, figures.totalMs, figures.bytes, figures.files, json(figures.failures), figures.outcome],
  );
  if (rows.length === 0) throw new CatalogConflictError(`drill ${id} is not running (finished, or no such drill)`);
  return one(await selectDrills(db, 'd.id = $1', [id]), () => `drill ${id} vanished`);
}

/**
 * When each site was last drilled for the contract (the start of its newest drill, finished or
 * not: a drill that died half way still took its turn). Sites never drilled are absent.
 */
export async function lastDrilledAt(db: CatalogDb, contract: string): Promise<Map<string, Date>> {
  const { rows } = await db.query<{ site: string; at: unknown }>(
    `select st.name as site, max(d.started_at) as at
     from drills d join sites st on st.id = d.site_id join contracts c on c.id = d.contract_id
     where c.name = $1
     group by st.name`,
    [contract],
  );
  return new Map(rows.map((r) => [r.site, date(r.at)]));
}

/** Newest first. */
export async function listDrills(
  db: CatalogDb,
  filter: { contract?: string; site?: string; limit?: number } = {},
): Promise<DrillRecord[]> {
  return selectDrills(
    db,
    `($1::text is null or c.name = $1) and ($2::text is null or st.name = $2)
     order by d.started_at desc, d.id desc limit $3`,
    [filter.contract ?? null, filter.site ?? null, filter.limit ?? 100],
  );
}

async function selectDrills(db: CatalogDb, rest: string, params: unknown[]): Promise<DrillRecord[]> {
  const { rows } = await db.query<DrillRow>(`${SELECT} where ${rest}`, params);
  return rows.map(toDrill);
}

/** The last finished drill of the contract at each site (removed sites too). */
export async function lastDrillsBySite(db: CatalogDb, contract: string): Promise<FinishedDrill[]> {
  const { rows } = await db.query<DrillRow>(
    `select distinct on (d.site_id) ${COLUMNS} ${FROM}
     where c.name = $1 and d.outcome is not null
     order by d.site_id, d.started_at desc, d.id desc`,
    [contract],
  );
  return rows.map(toDrill) as FinishedDrill[];
}

/** Finished drills of the contract started at or after `since`, oldest first; the newest `limit`. */
export async function drillHistory(db: CatalogDb, contract: string, since: Date, limit = 500): Promise<FinishedDrill[]> {
  const rows = await selectDrills(
    db,
    `c.name = $1 and d.outcome is not null and d.started_at >= $2 order by d.started_at desc, d.id desc limit $3`,
    [contract, since, limit],
  );
  return (rows as FinishedDrill[]).reverse();
}
