// Leases on one real PostgreSQL: the claim order (tier first), a dead daemon's job taken over once
// its lease expires with its late finish refused (the fence), a failing job given up after its
// last attempt, and shutdown giving unfinished jobs back. Each test works in a window of database
// time of its own (the skew seam), days apart, so their ticks never meet.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { claimNextJob, extendLease, finishJob, getJob, insertTick, listJobs } from '../../catalog/queries/jobs.ts';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { ManualClock, systemClock } from '../../core/clock.ts';
import type { ClaimedJob, Job } from '../../catalog/queries/jobs.ts';
import type { Daemon, JobResult } from '../../replicator/daemon/daemon.ts';
import { CONTRACTS, makeWorld, type World } from './world.ts';

const DAY = 86_400_000;
let world: World;
let db: CatalogDb;
const opened: CatalogDb[] = [];

beforeAll(async () => {
  // Scrubs and drills that never fall within the windows below (1 January only).
  world = await makeWorld('lease', { scrub: '0 0 1 1 *', drill: '0 1 1 1 *' });
  db = await world.open();
});

afterAll(async () => {
  for (const d of opened) await d.close();
  await db?.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

async function daemon(name: string, options: Parameters<World['daemon']>[1]): Promise<Daemon> {
  const d = await world.daemon(name, options);
  opened.push(d.db);
  return d.daemon;
}

const until = async (what: () => boolean | Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 500 && !(await what()); i++) await new Promise((r) => setTimeout(r, 20));
  if (!(await what())) throw new Error('waited 10 s in vain');
};

/** A job runner that holds each job until let go; what it started, in order. */
function gated(): { runJob: (job: ClaimedJob) => Promise<JobResult>; started: ClaimedJob[]; release: () => void } {
  const started: ClaimedJob[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    started,
    release: () => release(),
    runJob: async (job) => {
      started.push(job);
      await gate;
      return { ok: true };
    },
  };
}

describe('daemon leases', () => {
  it('claims by tier, and scrubs wait for the snapshot of their tick', async () => {
    const skewMs = 1 * DAY;
    const { rows } = await db.query<{ t: Date }>(`select date_trunc('minute', now() + interval '1 day') as t`);
    const tick = rows[0]!.t;
    for (const c of [...CONTRACTS].reverse()) {
      await insertTick(db, { contract: c.name, kind: 'verify', tick });
      await insertTick(db, { contract: c.name, kind: 'snapshot', tick });
    }
    const order: string[] = [];
    const claimed: ClaimedJob[] = [];
    for (;;) {
      const job = await claimNextJob(db, 'order', 60_000, { skewMs, waitFor: 'snapshot' });
      if (job === null) break;
      claimed.push(job);
      order.push(`${job.contract} ${job.kind}`);
    }
    // Critical before standard before bulk; no scrub while its contract's snapshot is unfinished.
    expect(order).toEqual(['hospitals snapshot', 'shelters snapshot', 'archive snapshot']);
    for (const job of claimed) expect(await finishJob(db, job, 'done')).toBe(true);
    for (;;) {
      const job = await claimNextJob(db, 'order', 60_000, { skewMs, waitFor: 'snapshot' });
      if (job === null) break;
      order.push(`${job.contract} ${job.kind}`);
      expect(await finishJob(db, job, 'done')).toBe(true);
    }
    expect(order.slice(3)).toEqual(['hospitals verify', 'shelters verify', 'archive verify']);
  });

  it("takes a dead daemon's job over when its lease expires, and refuses the dead one's late finish", async () => {
    const base = 2 * DAY;
    // A never heartbeats: its clock never moves. It claims one job (the critical snapshot) and hangs.
    const a = gated();
    const dead = await daemon('a', { skewMs: () => base, clock: new ManualClock(), concurrency: 1, runJob: a.runJob });
    const aDone = dead.runOnce();
    await until(() => a.started.length === 1);
    const job = a.started[0]!;
    expect(job).toMatchObject({ contract: 'hospitals', kind: 'snapshot', attempts: 1 });

    // B, a lease (60 s) and a second later by the database clock, takes it over and runs everything due.
    const ranByB: ClaimedJob[] = [];
    const b = await daemon('b', {
      skewMs: () => base + 61_000,
      runJob: async (j) => {
        ranByB.push(j);
        return { ok: true };
      },
    });
    await b.runOnce();
    expect(ranByB.find((j) => j.id === job.id)).toMatchObject({ attempts: 2 });
    expect(await extendLease(db, job, 60_000)).toBeNull(); // A's lease is gone

    a.release(); // A wakes up and finishes late: refused
    await aDone;
    expect(dead.ended).toEqual([expect.objectContaining({ end: 'fenced' })]);
    expect(await getJob(db, job.id)).toMatchObject({ state: 'done', attempts: 2 });
    const { rows } = await db.query<{ outcome: string; owner: string }>(
      `select outcome, details->>'owner' as owner from runs where job_id = $1 order by id`,
      [job.id],
    );
    expect(rows.map((r) => r.outcome)).toEqual(['cancelled', 'succeeded']);
  });

  it('backs a failing job off between attempts, then gives it up after its last, with the error', async () => {
    const before = new Set((await listJobs(db)).map((j) => j.id));
    let skew = 3 * DAY;
    const failing = await daemon('c', {
      skewMs: () => skew,
      maxAttempts: 2,
      backoff: { baseMs: 30_000, capMs: 60_000 },
      runJob: async () => ({ ok: false, error: 'site chengdu-a did not answer' }),
    });
    await failing.runOnce();
    const first = (await listJobs(db)).filter((j) => !before.has(j.id));
    expect(first.length).toBe(CONTRACTS.length); // one snapshot tick each
    // Followed by id: a later round may cross a minute and schedule the next ticks too.
    const ids = new Set(first.map((j) => j.id));
    const mine = async (): Promise<Job[]> => (await listJobs(db)).filter((j) => ids.has(j.id));
    // Each failed once and waits out its backoff (database clock + 30 s): not claimed again at once.
    const now = (await databaseNow(db)).getTime() + skew;
    for (const j of await mine()) {
      expect(j).toMatchObject({ state: 'pending', attempts: 1, lastError: 'site chengdu-a did not answer' });
      expect(j.notBefore!.getTime() - now).toBeGreaterThan(25_000);
      expect(j.notBefore!.getTime() - now).toBeLessThanOrEqual(30_000);
    }
    skew += 10_000;
    await failing.runOnce();
    expect((await mine()).every((j) => j.attempts === 1)).toBe(true);
    skew += 25_000; // past the backoff: the second (last) attempt fails them for good
    await failing.runOnce();
    for (const j of await mine()) expect(j).toMatchObject({ state: 'failed', attempts: 2, lastError: 'site chengdu-a did not answer' });
    const ends = failing.ended.filter((e) => ids.has(e.job.id)).map((e) => e.end);
    expect(ends.sort()).toEqual([...Array(3).fill('failed'), ...Array(3).fill('retry')]);
  });

  it('fails a job whose daemon died on its last attempt', async () => {
    const base = 4 * DAY;
    const a = gated();
    const dying = await daemon('d', { skewMs: () => base, clock: new ManualClock(), concurrency: 1, maxAttempts: 1, runJob: a.runJob });
    const aDone = dying.runOnce();
    await until(() => a.started.length === 1);
    const later = await daemon('e', { skewMs: () => base + 61_000, maxAttempts: 1, runJob: async () => ({ ok: true }) });
    await later.runOnce();
    expect(await getJob(db, a.started[0]!.id)).toMatchObject({ state: 'failed', attempts: 1 });
    expect((await getJob(db, a.started[0]!.id))!.lastError).toMatch(/lease expired after 1 attempts/);
    a.release();
    await aDone;
    expect(dying.ended.map((e) => e.end)).toEqual(['fenced']);
  });

  it('on stop, lets a job finish within the deadline and gives back one that does not', async () => {
    const base = 5 * DAY;
    const quick = gated();
    const d1 = await daemon('f', { skewMs: () => base, clock: systemClock, concurrency: 1, runJob: quick.runJob });
    const loop1 = d1.loop();
    await until(() => quick.started.length === 1);
    setTimeout(() => quick.release(), 100);
    expect(await d1.stop(10_000)).toEqual([]);
    await loop1;
    expect(await getJob(db, quick.started[0]!.id)).toMatchObject({ state: 'done' });

    const stuck = gated();
    const d2 = await daemon('g', { skewMs: () => base, clock: systemClock, concurrency: 1, runJob: stuck.runJob });
    const loop2 = d2.loop();
    await until(() => stuck.started.length === 1);
    const released = await d2.stop(200);
    await loop2;
    expect(released.map((j) => j.id)).toEqual([stuck.started[0]!.id]);
    expect(await getJob(db, stuck.started[0]!.id)).toMatchObject({ state: 'pending', leaseOwner: null, attempts: 1 });
    stuck.release();
    await until(() => d2.ended.length === 1);
    expect(d2.ended[0]!.end).toBe('fenced'); // its late finish does not undo the release
  });

  it('follows a contract re-applied while it runs, without a restart', async () => {
    let skew = 6 * DAY;
    // Jobs left pending by earlier tests (days before) are run too; only this window's count here.
    const from = (await databaseNow(db)).getTime() + skew - 120_000;
    const ran: ClaimedJob[] = [];
    const d = await daemon('h', { skewMs: () => skew, concurrency: 1, runJob: async (j) => (ran.push(j), { ok: true }) });
    const order = (): (string | null)[] => ran.filter((j) => j.kind === 'snapshot' && j.tick.getTime() >= from).map((j) => j.contract);
    await d.runOnce();
    expect(order()).toEqual(['hospitals', 'shelters', 'archive']);
    // hospitals drops to the bulk tier (with a tighter RPO than archive): the same daemon, on its
    // next round, runs it after shelters and before archive.
    const file = path.join(world.tmp, 'hospitals.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('tier: critical', 'tier: bulk'));
    await world.cli(['policy', 'apply', file]);
    ran.length = 0;
    skew += 60_000;
    await d.runOnce();
    expect(order()).toEqual(['shelters', 'hospitals', 'archive']);
  });
});
