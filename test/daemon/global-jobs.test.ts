// The global prune job: two daemons on one real PostgreSQL, each told to prune every minute, create
// its tick once (a job of no contract, unique per (kind, tick) among global jobs), one of them runs
// the real `prune --apply` (recorded as the command's own run), and a later round of the same
// minute adds nothing. No prune tick is due before the first contract was applied.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { insertTick, listJobs } from '../../catalog/queries/jobs.ts';
import type { Daemon } from '../../replicator/daemon/daemon.ts';
import { makeWorld, type World } from './world.ts';

const NEVER = '0 0 1 1 *';
let world: World | undefined;
const opened: CatalogDb[] = [];

afterAll(async () => {
  for (const db of opened) await db.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

describe('global jobs', () => {
  it('prune: one job per tick for all daemons, run once with the real command', async () => {
    world = await makeWorld('global', { scrub: NEVER, drill: NEVER }, { schedules: { hospitals: NEVER, shelters: NEVER, archive: NEVER }, rpo: '1000d' });
    const w = world;
    let skew = -86_400_000; // a day before any contract: nothing is due
    const pair: Daemon[] = [];
    for (const name of ['a', 'b']) {
      const d = await w.daemon(name, { skewMs: () => skew, prune: '* * * * *' });
      opened.push(d.db);
      pair.push(d.daemon);
    }
    const db = opened[0]!;
    await Promise.all(pair.map((d) => d.runOnce()));
    expect(await listJobs(db)).toEqual([]);

    skew = 60_000;
    await Promise.all(pair.map((d) => d.runOnce()));
    await Promise.all(pair.map((d) => d.runOnce())); // the same minute again (most likely): nothing new
    const jobs = await listJobs(db);
    const minutes = new Set(jobs.map((j) => j.tick.getTime()));
    expect(jobs.length).toBe(minutes.size); // one per tick, whichever daemon inserted it
    expect(jobs.every((j) => j.kind === 'prune' && j.contract === null && j.state === 'done' && j.attempts === 1)).toBe(true);
    const ended = pair.flatMap((d) => d.ended);
    expect(ended.map((e) => e.job.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    // The command ran and recorded its own run (besides the job's run).
    const { rows } = await db.query<{ n: string }>(`select count(*) as n from runs where kind = 'prune' and job_id is null and outcome = 'succeeded'`);
    expect(Number(rows[0]!.n)).toBe(jobs.length);
    // The partial unique index: a second insert of the same global tick is refused quietly.
    expect(await insertTick(db, { contract: null, kind: 'prune', tick: jobs[0]!.tick })).toBeNull();
  }, 120_000);
});
