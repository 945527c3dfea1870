// Two daemons, each on its own connection to one real PostgreSQL, three contracts whose snapshots
// run every minute: the database clock is moved a minute per round (the skew seam) and both
// daemons schedule and run concurrently each round. Every (contract, kind, tick) must exist once
// and have run exactly once.
//
// The jobs here record each execution in a table of the same database: the scheduling, claiming
// and fencing are the real daemon's, but a real snapshot and forget take about a second each on
// this machine, so fifty rounds of them would take minutes. real-jobs.test.ts runs the real
// commands for a few rounds.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import type { Daemon } from '../../replicator/daemon/daemon.ts';
import { expectExactlyOnce } from './exactly-once.ts';
import { CONTRACTS, makeWorld, type World } from './world.ts';

const ROUNDS = 50;
const worlds: World[] = [];
const daemons: { daemon: Daemon; db: CatalogDb }[] = [];

afterAll(async () => {
  for (const d of daemons) await d.db.close();
  for (const w of worlds) await rm(w.tmp, { recursive: true, force: true });
});

describe('two daemons on one catalog', () => {
  it(`schedule and run each of ${ROUNDS} minutes of three contracts exactly once`, async () => {
    const world = await makeWorld('record', { scrub: '*/10 * * * *', drill: '*/25 * * * *' });
    worlds.push(world);
    const setup = await world.open();
    await setup.query('create table executions (job_id bigint not null, owner text not null)');
    await setup.close();
    let skew = 0;
    const pair: { daemon: Daemon; db: CatalogDb }[] = [];
    for (const name of ['a', 'b']) {
      const { daemon, db } = await world.daemon(name, {
        skewMs: () => skew,
        // A real side effect per execution, in the shared database, taking a moment so jobs overlap.
        runJob: async (job) => {
          await db.query('insert into executions (job_id, owner) values ($1, $2)', [job.id, job.leaseOwner]);
          await new Promise((r) => setTimeout(r, 5));
          return { ok: true };
        },
      });
      pair.push({ daemon, db });
    }
    daemons.push(...pair);
    for (let round = 1; round <= ROUNDS; round++) {
      skew = round * 60_000;
      await Promise.all(pair.map((d) => d.daemon.runOnce()));
    }
    const db = pair[0]!.db;
    const jobs = await expectExactlyOnce(db, pair.map((d) => d.daemon));
    for (const c of CONTRACTS) {
      const of = (kind: string): number => jobs.filter((j) => j.contract === c.name && j.kind === kind).length;
      // One tick per minute (the first round may fall before the contract existed, by seconds).
      expect(of('snapshot')).toBeGreaterThanOrEqual(ROUNDS - 1);
      expect(of('snapshot')).toBeLessThanOrEqual(ROUNDS);
      expect(of('verify')).toBeGreaterThanOrEqual(4);
      expect(of('drill')).toBeGreaterThanOrEqual(1);
    }
    const { rows } = await db.query<{ job_id: string; n: string }>('select job_id, count(*) as n from executions group by job_id');
    expect(rows.length).toBe(jobs.length);
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
  }, 120_000);
});
