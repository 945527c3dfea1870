// Scheduled work shared by every daemon on one database. A scheduler inserts each tick once
// (unique per contract, kind, tick); a worker claims the oldest due job with FOR UPDATE SKIP LOCKED,
// so two workers never get the same one, and holds it under a lease timed by the database clock.
//
// A lease is (job id, owner, attempt): every claim bumps `attempts`, so a worker whose lease
// expired and was claimed by another can no longer extend, finish or release the job. Until another
// claims it, an expired lease still belongs to its holder. Owners should be unique per worker
// (host, pid and a random part).
//
// A job belongs to one contract, or to none (a global job such as prune: contract null, unique per
// (kind, tick) through a partial index of its own, migration 5). A failed attempt may be given
// back with a not-before time (backoff, by the database clock); a job may carry its own attempt
// budget, else the caller's maxAttempts applies.
import type { CatalogDb } from '../db.ts';
import { contractId } from './contracts.ts';
import { date, dateOrNull, num } from './rows.ts';

export type JobState = 'pending' | 'running' | 'done' | 'failed';

export interface Job {
  id: number;
  /** null for a global job (prune). */
  contract: string | null;
  kind: string;
  /** The schedule's instant this job is for; it becomes claimable then. */
  tick: Date;
  state: JobState;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  attempts: number;
  lastError: string | null;
  /** Not claimed before this (backoff after a failed attempt); null: at its tick. */
  notBefore: Date | null;
  /** This job's own attempt budget; null: the daemon's. */
  maxAttempts: number | null;
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
  contract: string | null;
  kind: string;
  tick: unknown;
  state: JobState;
  lease_owner: string | null;
  lease_expires_at: unknown;
  attempts: unknown;
  last_error: string | null;
  not_before: unknown;
  max_attempts: unknown;
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
  notBefore: dateOrNull(r.not_before),
  maxAttempts: r.max_attempts === null || r.max_attempts === undefined ? null : num(r.max_attempts),
  createdAt: date(r.created_at),
  finishedAt: dateOrNull(r.finished_at),
});

const JOB_COLUMNS = `j.id, c.name as contract, j.kind, j.tick, j.state, j.lease_owner, j.lease_expires_at,
  j.attempts, j.last_error, j.not_before, j.max_attempts, j.created_at, j.finished_at`;

function checkLeaseMs(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError(`a lease must be a positive time, not ${leaseMs} ms`);
}

/**
 * Inserts the job for one schedule tick; null when that tick was inserted already (by anyone).
 * contract null: a global job, unique per (kind, tick) among global jobs.
 */
export async function insertTick(
  db: CatalogDb,
  tick: { contract: string | null; kind: string; tick: Date },
): Promise<number | null> {
  const cid = tick.contract === null ? null : await contractId(db, tick.contract);
  const target = cid === null ? '(kind, tick) where contract_id is null' : '(contract_id, kind, tick)';
  const { rows } = await db.query<{ id: unknown }>(
    `insert into jobs (contract_id, kind, tick) values ($1, $2, $3)
     on conflict ${target} do nothing returning id`,
    [cid, tick.kind, tick.tick],
  );
  return rows[0] ? num(rows[0].id) : null;
}

/**
 * Inserts a follow-up job of a contract (a catch-up after a partial snapshot), claimable from
 * notBeforeMs after the database's now, with its own attempt budget; null when that contract
 * already has an unfinished job of this kind (it will do the same work) or this tick has one.
 */
export async function insertFollowUp(
  db: CatalogDb,
  job: { contract: string; kind: string; tick: Date; notBeforeMs: number; maxAttempts: number | null },
  options: JobClockOptions = {},
): Promise<number | null> {
  const cid = await contractId(db, job.contract);
  const { rows } = await db.query<{ id: unknown }>(
    `insert into jobs (contract_id, kind, tick, not_before, max_attempts)
     select $1, $2, $3, ${NOW('$6')} + $4::double precision * interval '1 millisecond', $5
     where not exists (select 1 from jobs o where o.contract_id = $1 and o.kind = $2 and o.state in ('pending', 'running'))
     on conflict (contract_id, kind, tick) do nothing returning id`,
    [cid, job.kind, job.tick, job.notBeforeMs, job.maxAttempts, options.skewMs ?? 0],
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
         and (j.not_before is null or j.not_before <= ${NOW('$4')})
         and ($3::text[] is null or j.kind = any($3::text[]))
         and (coalesce(j.max_attempts, $5::integer) is null or j.attempts < coalesce(j.max_attempts, $5::integer))
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
     select ${JOB_COLUMNS} from claimed j left join contracts c on c.id = j.contract_id`,
    [owner, leaseMs, options.kinds ? [...options.kinds] : null, options.skewMs ?? 0, options.maxAttempts ?? null, options.waitFor ?? null],
  );
  return rows[0] ? (toJob(rows[0]) as ClaimedJob) : null;
}

/**
 * Ends, as failed, every job whose holder's lease expired after its last allowed attempt (its
 * worker died maxAttempts times, or the job kills whoever runs it; a job's own max_attempts
 * overrides maxAttempts). Returns how many.
 */
export async function failExhaustedJobs(db: CatalogDb, maxAttempts: number, options: JobClockOptions = {}): Promise<number> {
  const { rows } = await db.query(
    `update jobs set state = 'failed', lease_owner = null, lease_expires_at = null, finished_at = now(), updated_at = now(),
       last_error = coalesce(last_error || '; ', '') || 'lease expired after ' || attempts || ' attempts'
     where state = 'running' and lease_expires_at <= ${NOW('$2')} and attempts >= coalesce(max_attempts, $1) returning id`,
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

/**
 * Gives the job back unfinished: claimable again at once (a worker shutting down), or after
 * retryAfterMs by the database clock (backoff after a failed attempt).
 */
export async function releaseJob(
  db: CatalogDb,
  job: ClaimedJob,
  error?: string,
  options: { retryAfterMs?: number } & JobClockOptions = {},
): Promise<boolean> {
  const { rows } = await db.query(
    `update jobs set state = 'pending', last_error = coalesce($4, last_error), lease_owner = null,
       lease_expires_at = null, updated_at = now(),
       not_before = case when $5::double precision is null then null
         else ${NOW('$6')} + $5::double precision * interval '1 millisecond' end
     where ${HELD} returning id`,
    [job.id, job.leaseOwner, job.attempts, error ?? null, options.retryAfterMs ?? null, options.skewMs ?? 0],
  );
  return rows.length > 0;
}

export async function getJob(db: CatalogDb, id: number): Promise<Job | null> {
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from jobs j left join contracts c on c.id = j.contract_id where j.id = $1`,
    [id],
  );
  return rows[0] ? toJob(rows[0]) : null;
}

/** Jobs (of a contract, in some states), by tick. */
export async function listJobs(
  db: CatalogDb,
  filter: { contract?: string; state?: JobState; states?: readonly JobState[] } = {},
): Promise<Job[]> {
  const states = filter.states ?? (filter.state === undefined ? null : [filter.state]);
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from jobs j left join contracts c on c.id = j.contract_id
     where ($1::text is null or c.name = $1) and ($2::text[] is null or j.state = any($2::text[]))
     order by j.tick, j.id`,
    [filter.contract ?? null, states === null ? null : [...states]],
  );
  return rows.map(toJob);
}

/** Jobs ended failed since a database time (status shows the recent ones), newest first. */
export async function recentFailedJobs(db: CatalogDb, sinceMs: number, limit = 20): Promise<Job[]> {
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from jobs j left join contracts c on c.id = j.contract_id
     where j.state = 'failed' and j.finished_at >= now() - $1::double precision * interval '1 millisecond'
     order by j.finished_at desc, j.id desc limit $2`,
    [sinceMs, limit],
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

