// Fifty cron minutes of three contracts under two daemons (each on its own catalog connection and
// its own georep home: two machines) sharing one real PostgreSQL, running the real commands against
// two real Ceph RGW sites. The database clock the daemons see is held at the start plus one minute
// per round (the skew seam takes back the real time that passed), so each round crosses exactly one
// minute boundary; both daemons schedule and run at once. Contracts snapshot every 2nd, 5th and
// 10th minute (a snapshot and forget cost ~3 s on this loaded machine: fifty rounds of one every
// minute took 200 s, too long for a test), scrub at minutes 0, 25 and 50 and drill once; snapshots keep the last 2 (forget --apply after each). Every tick of every
// cron within the fifty minutes became one job and ran exactly once, none skipped, and every Ceph
// site holds every committed, kept snapshot and nothing else, each complete there.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import type { Daemon } from '../../replicator/daemon/daemon.ts';
import type { StackedSite } from '../../sites/stack.ts';
import { SiteAuditor } from '../ship/kill-harness.ts';
import { cephSites } from '../ship/fixtures.ts';
import { expectExactlyOnce } from './exactly-once.ts';
import { CONTRACTS, makeWorld, type World } from './world.ts';

const ROUNDS = 50;
const PERIOD_MIN = { hospitals: 2, shelters: 5, archive: 10 };
const SCHEDULES = { hospitals: '*/2 * * * *', shelters: '*/5 * * * *', archive: '*/10 * * * *' };
const gateways = cephSites(2);
let world: World | undefined;
const opened: CatalogDb[] = [];
const sites: StackedSite[] = [];

afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
  for (const db of opened) await db.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

describe('two daemons, real commands, Ceph RGW sites', () => {
  it(`run ${ROUNDS} minutes of three contracts, each tick exactly once, every site holding every kept snapshot`, async () => {
    const t0 = performance.now();
    // The drill: once, half an hour into the fifty minutes (setup takes well under a minute).
    const drillAt = new Date(Date.now() + 30 * 60_000);
    const drill = `${drillAt.getUTCMinutes()} ${drillAt.getUTCHours()} * * *`;
    world = await makeWorld('ceph50', { scrub: '*/25 * * * *', drill }, { keepLast: 2, schedules: SCHEDULES, ceph: gateways });
    const w = world;
    let round = 0;
    let startedAt = 0;
    // Held at (start + round minutes) whatever real time passes within a round.
    const skew = (): number => round * 60_000 - (performance.now() - startedAt);
    const pair: { daemon: Daemon; db: CatalogDb }[] = [];
    for (const name of ['a', 'b']) {
      const home = await mkdtemp(path.join(w.tmp, `home-${name}-`));
      const d = await w.daemon(name, { skewMs: skew }, { home });
      opened.push(d.db);
      pair.push(d);
    }
    const setupMs = performance.now() - t0;
    startedAt = performance.now();
    for (round = 1; round <= ROUNDS; round++) {
      for (const c of CONTRACTS) await writeFile(path.join(w.sources[c.name]!, `round-${round}.txt`), `${c.name} ${round}\n`);
      await Promise.all(pair.map((d) => d.daemon.runOnce()));
    }
    const roundsMs = performance.now() - t0 - setupMs;

    const db = pair[0]!.db;
    const jobs = await expectExactlyOnce(db, pair.map((d) => d.daemon));
    const ticks = (contract: string, kind: string): number[] =>
      jobs.filter((j) => j.contract === contract && j.kind === kind).map((j) => j.tick.getTime()).sort((x, y) => x - y);
    // Every firing of each snapshot cron within the fifty minutes: 25, 10 and 5 ticks, one period
    // apart (none skipped, none twice).
    for (const [contract, period] of Object.entries(PERIOD_MIN)) {
      const t = ticks(contract, 'snapshot');
      expect(t.length, contract).toBe(ROUNDS / period);
      expect(t.slice(1).map((x, i) => (x - t[i]!) / 60_000), contract).toEqual(Array(t.length - 1).fill(period));
    }
    for (const c of CONTRACTS) {
      // */25 fires at minutes 0, 25 and 50 of each hour: 2 or 3 of them in any fifty minutes.
      const scrubs = ticks(c.name, 'verify');
      expect(scrubs.length, c.name).toBeGreaterThanOrEqual(2);
      expect(scrubs.length, c.name).toBeLessThanOrEqual(3);
      expect(scrubs.every((t) => [0, 25, 50].includes(new Date(t).getUTCMinutes())), c.name).toBe(true);
      expect(ticks(c.name, 'drill').length, c.name).toBe(1);
    }
    expect(jobs.filter((j) => j.kind === 'catch-up')).toEqual([]); // no site was ever left behind

    // The catalog: the kept snapshots (2 per contract), each committed at both sites.
    const { rows: kept } = await db.query<{ hex: string; sites: string }>(
      `select s.hex, count(*) filter (where ss.state = 'committed') as sites from snapshots s
       join snapshot_sites ss on ss.snapshot_id = s.id where s.forgotten_at is null group by s.hex order by s.hex`,
    );
    expect(kept.length).toBe(CONTRACTS.length * 2);
    expect(kept.filter((k) => Number(k.sites) !== 2)).toEqual([]);
    // Each Ceph site: exactly those manifests, each with everything it needs there.
    for (const [name, url] of Object.entries(w.urls)) {
      const site = await openSite(url, { env: w.env, clock: systemClock, logger: silentLogger() });
      sites.push(site);
      const audit = await new SiteAuditor(site, w.env.GEOREP_PASSWORD!).audit();
      expect(audit.problems, name).toEqual([]);
      expect([...audit.manifests].sort(), name).toEqual(kept.map((k) => k.hex));
    }
    const totalMs = performance.now() - t0;
    console.log(
      `${ROUNDS} rounds, ${jobs.length} jobs (${pair.map((d) => d.daemon.ended.length).join(' + ')}): ` +
        `setup ${(setupMs / 1000).toFixed(1)} s, rounds ${(roundsMs / 1000).toFixed(1)} s, total ${(totalMs / 1000).toFixed(1)} s`,
    );
  }, 300_000);
});
