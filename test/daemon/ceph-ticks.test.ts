// Fifty cron minutes of three contracts under two daemons (each on its own catalog connection and
// its own georep home: two machines) sharing one real PostgreSQL, running the real commands against
// two real Ceph RGW sites. The database clock is moved a minute per round (the skew seam); each
// round both daemons schedule and run at once. Contracts snapshot every minute, every 2nd and every
// 5th minute (so fifty ticks stay within the time a test may take here), scrub every 25th and drill
// every 50th; snapshots keep the last 2 (forget --apply after each). Every (contract, kind, tick)
// ran exactly once, and every Ceph site holds every committed, kept snapshot and nothing else, each
// complete there.
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
const SCHEDULES = { hospitals: '* * * * *', shelters: '*/2 * * * *', archive: '*/5 * * * *' };
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
    world = await makeWorld('ceph50', { scrub: '*/25 * * * *', drill: '*/50 * * * *' }, { keepLast: 2, schedules: SCHEDULES, ceph: gateways });
    const w = world;
    let skew = 0;
    const pair: { daemon: Daemon; db: CatalogDb }[] = [];
    for (const name of ['a', 'b']) {
      const home = await mkdtemp(path.join(w.tmp, `home-${name}-`));
      const d = await w.daemon(name, { skewMs: () => skew }, { home });
      opened.push(d.db);
      pair.push(d);
    }
    const setupMs = performance.now() - t0;
    for (let round = 1; round <= ROUNDS; round++) {
      skew = round * 60_000;
      for (const c of CONTRACTS) await writeFile(path.join(w.sources[c.name]!, `round-${round}.txt`), `${c.name} ${round}\n`);
      await Promise.all(pair.map((d) => d.daemon.runOnce()));
    }
    const roundsMs = performance.now() - t0 - setupMs;

    const db = pair[0]!.db;
    const jobs = await expectExactlyOnce(db, pair.map((d) => d.daemon));
    const count = (contract: string, kind: string): number => jobs.filter((j) => j.contract === contract && j.kind === kind).length;
    // One snapshot tick per firing of each cron within the fifty minutes (the first round may fall
    // before a contract existed, by seconds).
    expect(count('hospitals', 'snapshot')).toBeGreaterThanOrEqual(ROUNDS - 1);
    expect(count('hospitals', 'snapshot')).toBeLessThanOrEqual(ROUNDS);
    expect(count('shelters', 'snapshot')).toBeGreaterThanOrEqual(ROUNDS / 2 - 1);
    expect(count('shelters', 'snapshot')).toBeLessThanOrEqual(ROUNDS / 2 + 1);
    expect(count('archive', 'snapshot')).toBeGreaterThanOrEqual(ROUNDS / 5 - 1);
    expect(count('archive', 'snapshot')).toBeLessThanOrEqual(ROUNDS / 5 + 1);
    for (const c of CONTRACTS) expect(count(c.name, 'verify'), c.name).toBeGreaterThanOrEqual(1);
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
