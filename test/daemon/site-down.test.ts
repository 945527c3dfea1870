// A partner site that stays down, under a daemon on one real PostgreSQL: each snapshot job commits
// at the site that is up and ends done (never holding its slot or the contract's next ticks), the
// site left behind is reported (the job's last_error, `georep status`) and caught up by one
// catch-up job per contract that backs off between attempts (not_before, by the database clock);
// once the site is back, the catch-up ships to it and every site holds every kept snapshot.
//
// "Down" is the site's folder moved away: every request to it fails, as with a gateway gone.
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { listJobs, type Job } from '../../catalog/queries/jobs.ts';
import { CONTRACTS, makeWorld, manifestsAt, type World } from './world.ts';

let world: World | undefined;
const opened: CatalogDb[] = [];

afterAll(async () => {
  for (const db of opened) await db.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

const BACKOFF = { baseMs: 20_000, capMs: 40_000 };

describe('a site that stays down', () => {
  it('is retried by a catch-up with backoff and reported, never blocking the snapshots; caught up when back', async () => {
    world = await makeWorld('sitedown', { scrub: '0 0 1 1 *', drill: '0 1 1 1 *' }, { keepLast: 3 });
    const w = world;
    let skew = 0;
    const { daemon, db } = await w.daemon('a', { skewMs: () => skew, backoff: BACKOFF, catchUpAttempts: 5 });
    opened.push(db);
    const down = `${w.sites['xian-c']!}.away`;
    await rename(w.sites['xian-c']!, down);
    const round = async (at: number, n: number): Promise<void> => {
      skew = at;
      for (const c of CONTRACTS) await writeFile(path.join(w.sources[c.name]!, `round-${n}.txt`), `${c.name} ${n}\n`);
      await daemon.runOnce();
    };
    const of = async (kind: string): Promise<Job[]> => (await listJobs(db)).filter((j) => j.kind === kind);
    const dbNow = async (): Promise<number> => (await databaseNow(db)).getTime() + skew;

    // Minute 1: each contract's snapshot commits at chengdu-a only; the job is done, says why.
    await round(60_000, 1);
    const snaps1 = await of('snapshot');
    expect(snaps1.length).toBe(CONTRACTS.length);
    for (const j of snaps1) {
      expect(j.state).toBe('done');
      expect(j.lastError).toMatch(/snapshot --contract .* exited 3: .*xian-c.*behind/);
    }
    let catchUps = await of('catch-up');
    expect(catchUps.map((j) => j.contract).sort()).toEqual(CONTRACTS.map((c) => c.name).sort());
    let now = await dbNow();
    for (const j of catchUps) {
      expect(j).toMatchObject({ state: 'pending', attempts: 0, maxAttempts: 5 });
      expect(j.notBefore!.getTime() - now).toBeGreaterThan(BACKOFF.baseMs - 10_000); // not at once
    }
    // Reported where an operator looks.
    const status = JSON.parse((await w.cli(['status', '--json'])).stdout) as {
      sites: { site: string; behind: unknown[] }[];
      jobs: { kind: string; state: string; notBefore: string | null; error: string | null }[];
    };
    expect(status.sites.find((s) => s.site === 'xian-c')!.behind.length).toBe(CONTRACTS.length);

    // Minute 2, past the first backoff: the new ticks' snapshots run (not held by the catch-ups,
    // and no second catch-up per contract), the catch-ups try, fail and back off twice as long.
    skew = 120_000 + BACKOFF.baseMs;
    const roundStart = await dbNow(); // the catch-ups fail after this, so their next try is 40 s after it at least
    await round(skew, 2);
    expect((await of('snapshot')).filter((j) => j.state === 'done').length).toBeGreaterThanOrEqual(2 * CONTRACTS.length);
    catchUps = await of('catch-up');
    expect(catchUps.length).toBe(CONTRACTS.length);
    now = await dbNow();
    for (const j of catchUps) {
      expect(j).toMatchObject({ state: 'pending', attempts: 1 });
      expect(j.lastError).toMatch(/ship --contract .* exited [13]/);
      // The second wait is 40 s (base doubled, the cap), from when the attempt failed.
      expect(j.notBefore!.getTime() - roundStart).toBeGreaterThanOrEqual(BACKOFF.capMs);
      expect(j.notBefore!.getTime() - now).toBeLessThanOrEqual(BACKOFF.capMs);
    }
    const shown = JSON.parse((await w.cli(['status', '--json'])).stdout) as typeof status;
    expect(shown.jobs.filter((j) => j.kind === 'catch-up').map((j) => j.state)).toEqual(Array(CONTRACTS.length).fill('pending'));
    expect(shown.jobs.every((j) => j.notBefore !== null && j.error !== null)).toBe(true);
    const text = (await w.cli(['status'])).stdout;
    expect(text).toMatch(/jobs needing attention/);
    expect(text).toMatch(/catch-up +pending +1 /);

    // The site comes back; past the second backoff the catch-ups ship to it and end done.
    await rename(down, w.sites['xian-c']!);
    await round(skew + BACKOFF.capMs + 60_000, 3); // past the backoff even after a slow round
    catchUps = await of('catch-up');
    expect(catchUps.map((j) => j.state)).toEqual(Array(CONTRACTS.length).fill('done'));
    expect(daemon.ended.filter((e) => e.end === 'failed')).toEqual([]);

    // Every site holds exactly the snapshots kept, committed at both.
    const { rows: kept } = await db.query<{ hex: string; sites: string }>(
      `select s.hex, count(*) filter (where ss.state = 'committed') as sites from snapshots s
       join snapshot_sites ss on ss.snapshot_id = s.id where s.forgotten_at is null group by s.hex order by s.hex`,
    );
    expect(kept.length).toBeGreaterThanOrEqual(2 * CONTRACTS.length);
    expect(kept.filter((k) => Number(k.sites) !== 2)).toEqual([]);
    for (const dir of Object.values(w.sites)) expect(await manifestsAt(dir)).toEqual(kept.map((k) => k.hex));
  }, 120_000);
});
