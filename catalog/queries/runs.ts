// Runs: one row per piece of work done (a snapshot, a shipment, a scrub, a drill), with how it
// ended. Status and SLA reports read these. Each run records its owner process and a heartbeat
// (migration 6), from which prune tells a live run from one whose process is gone
// (catalog/run-liveness.ts).
import type { CatalogDb } from '../db.ts';
import { CatalogConflictError } from '../errors.ts';
import { contractId } from './contracts.ts';
import { date, dateOrNull, json, num, numOrNull, one } from './rows.ts';

/** 'abandoned': ended by prune, not by its process, which was taken for gone (run-liveness.ts). */
export type RunOutcome = 'succeeded' | 'failed' | 'partial' | 'cancelled' | 'abandoned';

export interface RunOwnerRecord {
  host: string;
  pid: number;
  token: string;
}

export interface Run {
  id: number;
  /** `snapshot`, `ship`, `scrub`, `drill`...: lowercase, digits and '-'. */
  kind: string;
  contract: string | null;
  jobId: number | null;
  startedAt: Date;
  finishedAt: Date | null;
  /** null while running. */
  outcome: RunOutcome | null;
  details: Record<string, unknown>;
  /** null for a run recorded before migration 6. */
  owner: RunOwnerRecord | null;
  /** The owner's last refresh (database clock); null before migration 6. */
  heartbeatAt: Date | null;
}

interface RunRow {
  id: unknown;
  kind: string;
  contract: string | null;
  job_id: unknown;
  started_at: unknown;
  finished_at: unknown;
  outcome: RunOutcome | null;
  details: Record<string, unknown>;
  owner_host: string | null;
  owner_pid: unknown;
  owner_token: string | null;
  heartbeat_at: unknown;
}

const toRun = (r: RunRow): Run => ({
  id: num(r.id),
  kind: r.kind,
  contract: r.contract,
  jobId: numOrNull(r.job_id),
  startedAt: date(r.started_at),
  finishedAt: dateOrNull(r.finished_at),
  outcome: r.outcome,
  details: r.details,
  owner:
    r.owner_host === null || r.owner_token === null || r.owner_pid === null
      ? null
      : { host: r.owner_host, pid: num(r.owner_pid), token: r.owner_token },
  heartbeatAt: dateOrNull(r.heartbeat_at),
});

const SELECT = `select r.id, r.kind, c.name as contract, r.job_id, r.started_at, r.finished_at, r.outcome, r.details,
    r.owner_host, r.owner_pid, r.owner_token, r.heartbeat_at
  from runs r left join contracts c on c.id = r.contract_id`;

export interface StartRunInput {
  kind: string;
  contract?: string | null;
  jobId?: number | null;
  details?: Record<string, unknown>;
  /** The process that runs it and will refresh its heartbeat (heartbeatRun); absent: none. */
  owner?: RunOwnerRecord;
}

export async function startRun(db: CatalogDb, input: StartRunInput): Promise<Run> {
  const cid = input.contract ? await contractId(db, input.contract) : null;
  const { rows } = await db.query<{ id: unknown }>(
    `insert into runs (kind, contract_id, job_id, details, owner_host, owner_pid, owner_token, heartbeat_at)
     values ($1, $2, $3, $4::jsonb, $5, $6, $7, case when $5::text is null then null else now() end) returning id`,
    [input.kind, cid, input.jobId ?? null, json(input.details ?? {}), input.owner?.host ?? null, input.owner?.pid ?? null, input.owner?.token ?? null],
  );
  return one(await selectRuns(db, 'r.id = $1', [num(one(rows, () => 'no run id').id)]), () => 'run vanished');
}

/** Ends a running run; details are merged into what it had. Finishing twice is a CatalogConflictError. */
export async function finishRun(
  db: CatalogDb,
  id: number,
  outcome: RunOutcome,
  details: Record<string, unknown> = {},
): Promise<Run> {
  const { rows } = await db.query(
    `update runs set finished_at = now(), outcome = $2, details = details || $3::jsonb
     where id = $1 and finished_at is null returning id`,
    [id, outcome, json(details)],
  );
  if (rows.length === 0) throw new CatalogConflictError(`run ${id} is not running (finished, or no such run)`);
  return one(await selectRuns(db, 'r.id = $1', [id]), () => `run ${id} vanished`);
}

/**
 * The owner's heartbeat: heartbeat_at = now(). False when the run is no longer open under this
 * owner: finished, or ended as abandoned by prune (then the process must not go on as if alive).
 */
export async function heartbeatRun(db: CatalogDb, id: number, token: string): Promise<boolean> {
  const { rows } = await db.query(
    'update runs set heartbeat_at = now() where id = $1 and owner_token = $2 and finished_at is null returning id',
    [id, token],
  );
  return rows.length > 0;
}

/**
 * Ends an unfinished run as abandoned, unless it showed life at or after `silentSince` (a heartbeat
 * since it was judged: then it is left open). True when this call ended it.
 */
export async function abandonRun(db: CatalogDb, id: number, silentSince: Date, details: Record<string, unknown>): Promise<boolean> {
  const { rows } = await db.query(
    `update runs set finished_at = now(), outcome = 'abandoned', details = details || jsonb_build_object('abandoned', $3::jsonb)
     where id = $1 and finished_at is null and coalesce(heartbeat_at, started_at) < $2::timestamptz returning id`,
    [id, silentSince, json(details)],
  );
  return rows.length > 0;
}

/** Every unfinished run, oldest first (few: one per command running, plus those left by killed ones). */
export async function listUnfinishedRuns(db: CatalogDb, kinds?: readonly string[]): Promise<Run[]> {
  return selectRuns(db, 'r.finished_at is null and ($1::text[] is null or r.kind = any($1::text[])) order by r.started_at, r.id', [
    kinds === undefined ? null : [...kinds],
  ]);
}

/** Runs ended as abandoned within the last `withinMs` (database clock), newest first. */
export async function recentAbandonedRuns(db: CatalogDb, withinMs: number): Promise<Run[]> {
  return selectRuns(
    db,
    `r.outcome = 'abandoned' and r.finished_at > now() - $1 * interval '1 millisecond' order by r.finished_at desc, r.id desc limit 100`,
    [withinMs],
  );
}

export async function getRun(db: CatalogDb, id: number): Promise<Run | null> {
  return (await selectRuns(db, 'r.id = $1', [id]))[0] ?? null;
}

/** Newest first. */
export async function listRuns(
  db: CatalogDb,
  filter: { kind?: string; contract?: string; limit?: number } = {},
): Promise<Run[]> {
  return selectRuns(
    db,
    '($1::text is null or r.kind = $1) and ($2::text is null or c.name = $2) order by r.started_at desc, r.id desc limit $3',
    [filter.kind ?? null, filter.contract ?? null, filter.limit ?? 100],
  );
}

// `rest` is everything after WHERE: the condition, and for lists the order and limit.
async function selectRuns(db: CatalogDb, rest: string, params: unknown[]): Promise<Run[]> {
  const { rows } = await db.query<RunRow>(`${SELECT} where ${rest}`, params);
  return rows.map(toRun);
}
