// Scheduled work shared by every daemon on one database. A scheduler inserts each tick once
// (unique per contract, kind, tick); a worker claims the oldest due job with FOR UPDATE SKIP LOCKED,
// so two workers never get the same one, and holds it under a lease timed by the database clock.
//
// A lease is (job id, owner, attempt): every claim bumps `attempts`, so a worker whose lease
// expired and was claimed by another can no longer extend, finish or release the job. Until another
// claims it, an expired lease still belongs to its holder. Owners should be unique per worker
// (host, pid and a random part).
import type { CatalogDb } from '../db.ts';
import { contractId } from './contracts.ts';
import { date, dateOrNull, num } from './rows.ts';

export type JobState = 'pending' | 'running' | 'done' | 'failed';

export interface Job {
  id: number;
  contract: string;
  kind: string;
  /** The schedule's instant this job is for; it becomes claimable then. */
  tick: Date;
  state: JobState;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** A job as its claim returned it: what the lease functions need. */
export interface ClaimedJob extends Job {
  state: 'running';
  leaseOwner: string;
  leaseExpiresAt: Date;
}

interface JobRow {
  id: unknown;
  contract: string;
  kind: string;
  tick: unknown;
  state: JobState;
  lease_owner: string | null;
  lease_expires_at: unknown;
  attempts: unknown;
  last_error: string | null;
  created_at: unknown;
  finished_at: unknown;
}

const toJob = (r: JobRow): Job => ({
  id: num(r.id),
  contract: r.contract,
  kind: r.kind,
  tick: date(r.tick),
  state: r.state,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: dateOrNull(r.lease_expires_at),
  attempts: num(r.attempts),
  lastError: r.last_error,
  createdAt: date(r.created_at),
  finishedAt: dateOrNull(r.finished_at),
});

const JOB_COLUMNS = `j.id, c.name as contract, j.kind, j.tick, j.state, j.lease_owner, j.lease_expires_at,
  j.attempts, j.last_error, j.created_at, j.finished_at`;

function checkLeaseMs(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError(`a lease must be a positive time, not ${leaseMs} ms`);
}

/** Inserts the job for one schedule tick; null when that tick was inserted already (by anyone). */
export async function insertTick(
  db: CatalogDb,
  tick: { contract: string; kind: string; tick: Date },
): Promise<number | null> {
  const cid = await contractId(db, tick.contract);
  const { rows } = await db.query<{ id: unknown }>(
    `insert into jobs (contract_id, kind, tick) values ($1, $2, $3)
     on conflict (contract_id, kind, tick) do nothing returning id`,
    [cid, tick.kind, tick.tick],
  );
  return rows[0] ? num(rows[0].id) : null;
}

/**
 * What "now" is for the lease and due-tick conditions: the database clock, moved by skewMs. Only
 * tests move it (to drive fifty cron ticks without waiting fifty minutes); every daemon passes 0.
 */
export interface JobClockOptions {
  skewMs?: number;
}

const NOW = (param: string): string => `(now() + ${param}::double precision * interval '1 millisecond')`;

// Claim order: tier (critical first), then the tightest RPO, then the oldest tick; read from the
// contract's newest applied version, so a re-applied tier takes effect on the next claim.
const PRIORITY = `case lv.parsed->>'tier' when 'critical' then 0 when 'standard' then 1 when 'bulk' then 2 else 3 end,
  (lv.parsed->>'rpoMs')::double precision nulls last, j.tick, j.id`;

/**
 * Claims the most urgent due job (tick reached by the database clock) that is pending, or running
 * under an expired lease, for `leaseMs`; null when there is none. kinds limits which jobs are
 * taken; a job already claimed maxAttempts times is left for failExhaustedJobs. With waitFor, a job
 * of any other kind waits while a job of that kind for the same contract, at or before its tick,
 * is unfinished (a scrub or drill checks the snapshot its tick was due to take, not the one before).
 */
export async function claimNextJob(
  db: CatalogDb,
  owner: string,
  leaseMs: number,
  options: { kinds?: readonly string[]; maxAttempts?: number; waitFor?: string } & JobClockOptions = {},
): Promise<ClaimedJob | null> {
  checkLeaseMs(leaseMs);
  const { rows } = await db.query<JobRow>(
    `with next as (
       select j.id from jobs j
       left join lateral (
         select v.parsed from contract_versions v where v.contract_id = j.contract_id order by v.version desc limit 1
       ) lv on true
       where j.state in ('pending', 'running') and j.tick <= ${NOW('$4')}
         and (j.state = 'pending' or j.lease_expires_at <= ${NOW('$4')})
         and ($3::text[] is null or j.kind = any($3::text[]))
         and ($5::integer is null or j.attempts < $5::integer)
         and ($6::text is null or j.kind = $6::text or not exists (
           select 1 from jobs w where w.contract_id = j.contract_id and w.kind = $6::text and w.tick <= j.tick
             and w.state in ('pending', 'running')))
       order by ${PRIORITY}
       limit 1
       for update of j skip locked
     ), claimed as (
       update jobs set state = 'running', lease_owner = $1,
         lease_expires_at = ${NOW('$4')} + $2::double precision * interval '1 millisecond',
         attempts = jobs.attempts + 1, updated_at = now()
       from next where jobs.id = next.id
       returning jobs.*
     )
     select ${JOB_COLUMNS} from claimed j join contracts c on c.id = j.contract_id`,
    [owner, leaseMs, options.kinds ? [...options.kinds] : null, options.skewMs ?? 0, options.maxAttempts ?? null, options.waitFor ?? null],
  );
  return rows[0] ? (toJob(rows[0]) as ClaimedJob) : null;
}

/**
 * Ends, as failed, every job whose holder's lease expired after its last allowed attempt (its
 * worker died maxAttempts times, or the job kills whoever runs it). Returns how many.
 */
export async function failExhaustedJobs(db: CatalogDb, maxAttempts: number, options: JobClockOptions = {}): Promise<number> {
  const { rows } = await db.query(
    `update jobs set state = 'failed', lease_owner = null, lease_expires_at = null, finished_at = now(), updated_at = now(),
       last_error = coalesce(last_error || '; ', '') || 'lease expired after ' || attempts || ' attempts'
     where state = 'running' and lease_expires_at <= ${NOW('$2')} and attempts >= $1 returning id`,
    [maxAttempts, options.skewMs ?? 0],
  );
  return rows.length;
}

// The condition that the caller still holds the lease it was given.
const HELD = `id = $1 and lease_owner = $2 and attempts = $3 and state = 'running'`;

/** Pushes the lease's end to leaseMs from now; null when the lease was lost. */
export async function extendLease(
  db: CatalogDb,
  job: ClaimedJob,
  leaseMs: number,
  options: JobClockOptions = {},
): Promise<Date | null> {
  checkLeaseMs(leaseMs);
  const { rows } = await db.query<{ lease_expires_at: unknown }>(
    `update jobs set lease_expires_at = ${NOW('$5')} + $4::double precision * interval '1 millisecond', updated_at = now()
     where ${HELD} returning lease_expires_at`,
    [job.id, job.leaseOwner, job.attempts, leaseMs, options.skewMs ?? 0],
  );
  return rows[0] ? date(rows[0].lease_expires_at) : null;
}

/** Ends the job as done or failed; false when the lease was lost (someone else has the job). */
export async function finishJob(
  db: CatalogDb,
  job: ClaimedJob,
  state: 'done' | 'failed',
  error?: string,
): Promise<boolean> {
  const { rows } = await db.query(
    `update jobs set state = $4, last_error = $5, lease_owner = null, lease_expires_at = null,
       finished_at = now(), updated_at = now()
     where ${HELD} returning id`,
    [job.id, job.leaseOwner, job.attempts, state, error ?? null],
  );
  return rows.length > 0;
}

/** Gives the job back unfinished (a worker shutting down), claimable again at once. */
export async function releaseJob(db: CatalogDb, job: ClaimedJob, error?: string): Promise<boolean> {
  const { rows } = await db.query(
    `update jobs set state = 'pending', last_error = coalesce($4, last_error), lease_owner = null,
       lease_expires_at = null, updated_at = now()
     where ${HELD} returning id`,
    [job.id, job.leaseOwner, job.attempts, error ?? null],
  );
  return rows.length > 0;
}

export async function getJob(db: CatalogDb, id: number): Promise<Job | null> {
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from jobs j join contracts c on c.id = j.contract_id where j.id = $1`,
    [id],
  );
  return rows[0] ? toJob(rows[0]) : null;
}

/** Jobs of a contract, by tick. */
export async function listJobs(db: CatalogDb, filter: { contract?: string; state?: JobState } = {}): Promise<Job[]> {
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from jobs j join contracts c on c.id = j.contract_id
     where ($1::text is null or c.name = $1) and ($2::text is null or j.state = $2)
     order by j.tick, j.id`,
    [filter.contract ?? null, filter.state ?? null],
  );
  return rows.map(toJob);
}

/** Counts jobs by state, for status displays and tests. */
export async function countJobs(db: CatalogDb, contract: string): Promise<Record<JobState, number>> {
  const { rows } = await db.query<{ state: JobState; n: unknown }>(
    `select j.state, count(*) as n from jobs j join contracts c on c.id = j.contract_id
     where c.name = $1 group by j.state`,
    [contract],
  );
  const counts: Record<JobState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const r of rows) counts[r.state] = num(r.n);
  return counts;
}

