// Runs: one row per piece of work done (a snapshot, a shipment, a scrub, a drill), with how it
// ended. Status and SLA reports read these.
import type { CatalogDb } from '../db.ts';
import { CatalogConflictError } from '../errors.ts';
import { contractId } from './contracts.ts';
import { date, dateOrNull, json, num, numOrNull, one } from './rows.ts';

export type RunOutcome = 'succeeded' | 'failed' | 'partial' | 'cancelled';

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
});

const SELECT = `select r.id, r.kind, c.name as contract, r.job_id, r.started_at, r.finished_at, r.outcome, r.details
  from runs r left join contracts c on c.id = r.contract_id`;

export interface StartRunInput {
  kind: string;
  contract?: string | null;
  jobId?: number | null;
  details?: Record<string, unknown>;
}

export async function startRun(db: CatalogDb, input: StartRunInput): Promise<Run> {
  const cid = input.contract ? await contractId(db, input.contract) : null;
  const { rows } = await db.query<{ id: unknown }>(
    'insert into runs (kind, contract_id, job_id, details) values ($1, $2, $3, $4::jsonb) returning id',
    [input.kind, cid, input.jobId ?? null, json(input.details ?? {})],
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
