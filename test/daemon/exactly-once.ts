// The exactly-once check both daemon tests make, from the catalog and the daemons' own record.
import { expect } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { listJobs, type Job } from '../../catalog/queries/jobs.ts';
import type { Daemon } from '../../replicator/daemon/daemon.ts';

/** Jobs exist once per (contract, kind, tick), each claimed once, ended done once, with one run row. */
export async function expectExactlyOnce(db: CatalogDb, pair: Daemon[]): Promise<Job[]> {
  const jobs = await listJobs(db);
  const ended = pair.flatMap((d) => d.ended);
  expect(pair.every((d) => d.ended.length > 0)).toBe(true); // both daemons took part
  expect(jobs.filter((j) => j.state !== 'done').map((j) => `${j.contract} ${j.kind} ${j.lastError}`)).toEqual([]);
  expect(new Set(jobs.map((j) => `${j.contract} ${j.kind} ${j.tick.getTime()}`)).size).toBe(jobs.length);
  expect(jobs.filter((j) => j.attempts !== 1).map((j) => `${j.contract} ${j.kind} attempts ${j.attempts}: ${j.lastError}`)).toEqual([]);
  expect(ended.map((e) => e.job.id).sort((x, y) => x - y)).toEqual(jobs.map((j) => j.id).sort((x, y) => x - y));
  const { rows: runs } = await db.query<{ job_id: string; n: string; ok: string }>(
    `select job_id, count(*) as n, count(*) filter (where outcome = 'succeeded') as ok from runs
     where job_id is not null group by job_id`,
  );
  expect(runs.length).toBe(jobs.length);
  expect(runs.every((r) => Number(r.n) === 1 && Number(r.ok) === 1)).toBe(true);
  return jobs;
}

