// A real `georep daemon` process (the built CLI) stopped in the middle of shipping a snapshot to a
// slow site (xian-c, registered at RATE bytes/s, so the upload lasts seconds), two ways:
//  - SIGKILL: the job stays claimed under the dead daemon's lease; a second daemon (short --lease)
//    takes it over once the lease expires and completes it (its second attempt first resumes the
//    dead one's snapshot from staging, then takes the tick's snapshot).
//  - SIGTERM with --shutdown-timeout shorter than the job: exit 0 within the deadline, the job given
//    back (pending, lease cleared); the next start (`daemon --once`) completes it.
// After each stop and at the end, every site is audited on its own: no manifest there whose objects
// are not all there (commit last). At the end every site holds every kept snapshot committed, and
// restores the source byte for byte.
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { dbNow } from '../../catalog/clock.ts';
import { getJob, insertTick, type Job } from '../../catalog/queries/jobs.ts';
import { listUnfinishedRuns } from '../../catalog/queries/runs.ts';
import { judgeRun, STALE_MS } from '../../catalog/run-liveness.ts';
import { thisProcess } from '../../catalog/run-owner.ts';
import { processAlive } from '../../core/process-alive.ts';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { describeTree, treeDifferences } from '../fixtures/compare-trees.ts';
import { seededBytes } from '../fixtures/tree-gen.ts';
import { buildDist, SiteAuditor, spawnGeorep, type ChildRun, type Running } from '../ship/kill-harness.ts';
import { makeWorld, manifestsAt, type World } from './world.ts';

const RATE = 150_000; // bytes/s at xian-c: a 1.2 MB snapshot takes ~8 s to ship there
const DAILY = '0 0 * * *'; // the daemons schedule nothing of their own during the test
let world: World;
let db: CatalogDb;
const sites: StackedSite[] = [];
let auditors: SiteAuditor[] = [];
const children: Running[] = [];

beforeAll(async () => {
  await buildDist();
  world = await makeWorld('kill', { scrub: '0 0 1 1 *', drill: '0 1 1 1 *' }, {
    schedules: { hospitals: DAILY, shelters: DAILY, archive: DAILY },
    rpo: '2d',
  });
  db = await world.open();
  for (const url of Object.values(world.urls)) sites.push(await openSite(url, { env: world.env, clock: systemClock, logger: silentLogger() }));
  auditors = sites.map((s) => new SiteAuditor(s, world.env.GEOREP_PASSWORD!));
  await db.query('update sites set bandwidth_bytes_per_sec = $1 where name = $2', [RATE, 'xian-c']);
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await Promise.all(sites.map((s) => s.close()));
  await db?.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

const daemon = (...args: string[]): Running => {
  const r = spawnGeorep(['daemon', '--poll', '1s', '--prune', 'off', ...args], { ...world.env, GEOREP_LOG_LEVEL: 'info' });
  children.push(r);
  return r;
};

async function until(what: () => Promise<boolean>, ms: number, why: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await what())) {
    if (performance.now() > end) throw new Error(`waited ${ms} ms in vain for ${why}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const packsAt = async (dir: string): Promise<number> =>
  (await readdir(path.join(dir, 'data'), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).length;

async function auditAll(when: string): Promise<void> {
  const audits = await Promise.all(auditors.map((a) => a.audit()));
  audits.forEach((a, i) => expect(a.problems, `${Object.keys(world.urls)[i]} ${when}`).toEqual([]));
}

/** A snapshot job for `contract` at this second, with 1.2 MB of new random data to ship. */
async function newWork(contract: string): Promise<number> {
  await writeFile(path.join(world.sources[contract]!, `plan-${randomBytes(3).toString('hex')}.bin`), seededBytes(randomBytes(8).toString('hex'), 1_200_000));
  const { rows } = await db.query<{ t: Date }>(`select date_trunc('second', now()) as t`);
  return (await insertTick(db, { contract, kind: 'snapshot', tick: rows[0]!.t }))!;
}

/** Waits until the job is running and xian-c has taken `packs` more packs than it had. */
async function midShip(id: number, packs: number): Promise<void> {
  const before = await packsAt(world.sites['xian-c']!);
  await until(async () => (await getJob(db, id))?.state === 'running', 30_000, 'the claim');
  await until(async () => (await packsAt(world.sites['xian-c']!)) >= before + packs, 60_000, 'the upload to xian-c');
}

/** Every site holds exactly the kept snapshots, each committed at both, and restores the source. */
async function everySiteComplete(contract: string): Promise<void> {
  const { rows: kept } = await db.query<{ hex: string; sites: string }>(
    `select s.hex, count(*) filter (where ss.state = 'committed') as sites from snapshots s
     join snapshot_sites ss on ss.snapshot_id = s.id where s.forgotten_at is null group by s.hex order by s.hex`,
  );
  expect(kept.filter((k) => Number(k.sites) !== 2)).toEqual([]);
  for (const dir of Object.values(world.sites)) expect(await manifestsAt(dir)).toEqual(kept.map((k) => k.hex));
  const source = await describeTree(world.sources[contract]!);
  for (const name of Object.keys(world.urls)) {
    const target = path.join(world.tmp, `restore-${contract}-${name}`);
    const { rows } = await db.query<{ hex: string }>(
      `select s.hex from snapshots s join datasets d on d.id = s.dataset_id where d.name = $1 and s.forgotten_at is null
       order by s.id desc limit 1`,
      [contract],
    );
    await world.cli(['restore', rows[0]!.hex, '--to', target, '--site', name]);
    expect(treeDifferences(source, await describeTree(target)), `${contract} from ${name}`).toEqual([]);
  }
}

describe('georep daemon stopped in the middle of a ship', () => {
  it('SIGKILL: another daemon takes the job over after the lease expires and completes it; no partial snapshot is visible', async () => {
    const id = await newWork('hospitals');
    const manifestsBefore = (await manifestsAt(world.sites['xian-c']!)).length;
    const a = daemon('--lease', '6s', '--concurrency', '1');
    await midShip(id, 3);
    expect(a.kill()).toBe(true);
    const killed: ChildRun = await a.done;
    expect(killed.signal).toBe('SIGKILL');
    // Killed mid-ship: xian-c has packs of the snapshot but not its manifest, and shows nothing partial.
    expect((await manifestsAt(world.sites['xian-c']!)).length).toBe(manifestsBefore);
    await auditAll('after the SIGKILL');
    const held = (await getJob(db, id))!;
    expect(held).toMatchObject({ state: 'running', attempts: 1 });
    // Its runs (the job's, and its snapshot command's) stay unfinished, owned by the dead process.
    // Live while their heartbeat is fresh; once it is stale, prune takes them for abandoned instead
    // of waiting for them for ever (catalog/run-liveness.ts).
    const orphans = (await listUnfinishedRuns(db)).filter((r) => r.owner !== null && !processAlive(r.owner.pid));
    expect(orphans.map((r) => [r.kind, r.jobId])).toEqual([['snapshot', id], ['snapshot', null]]);
    const dbTime = await dbNow(db);
    const here = { self: thisProcess(), pidAlive: processAlive };
    for (const r of orphans) {
      expect(judgeRun(r, { now: dbTime, ...here }).state).toBe('live');
      expect(judgeRun(r, { now: new Date(dbTime.getTime() + STALE_MS), ...here }).state).toBe('abandoned');
    }

    const b = daemon('--lease', '6s');
    // Not before the dead daemon's lease ran out (by the database clock).
    await until(async () => (await getJob(db, id))!.attempts === 2, 30_000, 'the takeover');
    const { rows: clock } = await db.query<{ now: Date }>('select now() as now');
    expect(clock[0]!.now.getTime()).toBeGreaterThanOrEqual(held.leaseExpiresAt!.getTime());
    // Audit while the new owner ships (packs arrive, manifests only once complete).
    await until(async () => {
      await auditAll('while the second daemon ships');
      return (await getJob(db, id))!.state !== 'running';
    }, 90_000, 'the job to end');
    const done: Job = (await getJob(db, id))!;
    expect(done).toMatchObject({ state: 'done', attempts: 2 });
    expect(b.signal('SIGTERM')).toBe(true);
    expect((await b.done).code).toBe(0);
    await auditAll('at the end');
    await everySiteComplete('hospitals');
  }, 180_000);

  it('SIGTERM: exits 0 within the shutdown deadline, gives the job back, and the next start completes it', async () => {
    const id = await newWork('shelters');
    const manifestsBefore = (await manifestsAt(world.sites['xian-c']!)).length;
    const c = daemon('--lease', '30s', '--shutdown-timeout', '2s');
    await midShip(id, 3);
    const sent = performance.now();
    expect(c.signal('SIGTERM')).toBe(true);
    const stopped = await c.done;
    const tookMs = performance.now() - sent;
    expect(stopped, stopped.stderr).toMatchObject({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(2000 + 8000); // the deadline, plus giving the lease back and exiting
    expect(stopped.stderr).toMatch(/"released":\[\d+\]/);
    expect((await manifestsAt(world.sites['xian-c']!)).length).toBe(manifestsBefore); // it was mid-ship
    expect(await getJob(db, id)).toMatchObject({ state: 'pending', leaseOwner: null, attempts: 1, lastError: 'released at shutdown' });
    await auditAll('after the SIGTERM');

    const next = spawnGeorep(['daemon', '--once', '--prune', 'off'], world.env);
    children.push(next);
    const ran = await next.done;
    expect(ran, ran.stderr).toMatchObject({ code: 0 });
    expect(await getJob(db, id)).toMatchObject({ state: 'done', attempts: 2 });
    await auditAll('at the end');
    await everySiteComplete('shelters');
  }, 180_000);
});
