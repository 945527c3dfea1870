// Two daemons on one real PostgreSQL run the real commands for three minutes of three contracts:
// snapshot then forget each minute, scrubs and drills on the minutes their crons name. Each job
// runs exactly once, and every site holds exactly the snapshots the catalog says it committed
// there, which are the ones retention keeps.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import type { Daemon } from '../../replicator/daemon/daemon.ts';
import type { DaemonMetrics } from '../../replicator/daemon/metrics.ts';
import { serveDaemonHttp } from '../../cli/daemon-http.ts';
import { systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import { expectExactlyOnce } from './exactly-once.ts';
import { CONTRACTS, makeWorld, manifestsAt, type World } from './world.ts';

const REAL_ROUNDS = 3;
let world: World | undefined;
const pair: { daemon: Daemon; db: CatalogDb; metrics: DaemonMetrics }[] = [];

afterAll(async () => {
  for (const d of pair) await d.db.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

describe('two daemons running the real commands', () => {
  it(`run snapshots, forgets, scrubs and drills for ${REAL_ROUNDS} minutes, every site holding every committed snapshot`, async () => {
    // A scrub every other minute, a drill every third: each on a minute a snapshot is also due,
    // which they wait for (a drill before the contract's first snapshot would have nothing to restore).
    world = await makeWorld('real', { scrub: '*/2 * * * *', drill: '*/3 * * * *' }, { keepLast: 2 });
    let skew = 0;
    for (const name of ['a', 'b']) pair.push(await world.daemon(name, { skewMs: () => skew }));
    for (let round = 1; round <= REAL_ROUNDS; round++) {
      skew = round * 60_000;
      for (const c of CONTRACTS) await writeFile(path.join(world.sources[c.name]!, `round-${round}.txt`), `${c.name} ${round}\n`);
      await Promise.all(pair.map((d) => d.daemon.runOnce()));
    }

    const db = pair[0]!.db;
    const jobs = await expectExactlyOnce(db, pair.map((d) => d.daemon));
    for (const kind of ['snapshot', 'verify', 'drill']) expect(jobs.some((j) => j.kind === kind), kind).toBe(true);

    // Every site holds exactly what the catalog says it committed there, and every snapshot kept
    // (not forgotten) is committed at both sites.
    const { rows: kept } = await db.query<{ hex: string; sites: string }>(
      `select s.hex, count(*) filter (where ss.state = 'committed') as sites from snapshots s
       join snapshot_sites ss on ss.snapshot_id = s.id where s.forgotten_at is null group by s.hex`,
    );
    expect(kept.length).toBe(CONTRACTS.length * 2); // retention: the last 2 of each
    expect(kept.every((k) => Number(k.sites) === 2)).toBe(true);
    // What a scrape of daemon a shows: the queue (all done), its own job counts, and per contract
    // and site the age of the newest committed snapshot (the last round's, seconds ago).
    const a = pair[0]!;
    const http = await serveDaemonHttp({ host: '127.0.0.1', port: 0 }, { ...a, staleMs: 60_000, logger: createLogger({ level: 'silent' }), clock: systemClock });
    try {
      expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
      const text = await (await fetch(`${http.url}/metrics`)).text();
      expect(text).toContain(`georep_jobs{state="done"} ${jobs.length}`);
      expect(text).toContain('georep_jobs{state="pending"} 0');
      const mine = a.daemon.ended.filter((e) => e.job.kind === 'snapshot' && e.end === 'done').length;
      expect(text).toContain(`georep_jobs_ended_total{kind="snapshot",end="done"} ${mine}`);
      for (const c of CONTRACTS) {
        for (const site of Object.keys(world.sites)) {
          const m = new RegExp(`georep_last_snapshot_age_seconds\\{contract="${c.name}",site="${site}"\\} ([0-9.e+-]+)`).exec(text);
          expect(m, `${c.name} at ${site}`).not.toBeNull();
          expect(Number(m![1])).toBeGreaterThanOrEqual(0);
          expect(Number(m![1])).toBeLessThan(120); // committed during this test
        }
      }
      expect((await fetch(`${http.url}/nope`)).status).toBe(404);
    } finally {
      await http.close();
    }

    for (const [name, dir] of Object.entries(world.sites)) {
      const { rows } = await db.query<{ hex: string }>(
        `select s.hex from snapshots s join snapshot_sites ss on ss.snapshot_id = s.id join sites t on t.id = ss.site_id
         where t.name = $1 and ss.state = 'committed' order by s.hex`,
        [name],
      );
      expect(await manifestsAt(dir), name).toEqual(rows.map((r) => r.hex));
      expect(rows.map((r) => r.hex).sort()).toEqual(kept.map((k) => k.hex).sort());
    }
  }, 120_000);
});
