// A site's registered bandwidth holds across the daemon's concurrent jobs: two drills run at once
// by one daemon (concurrency 2), each restoring its own snapshot from the same site, which is
// registered at RATE bytes/s. Each job's command opens the site afresh; with the process's shared
// bucket (BucketRegistry through CliContext, as `georep daemon` builds it) both pay into one, so
// together they take at least as long as their sum needs at that rate. The bound is physics, not a
// timing guess: without the shared bucket each would have RATE to itself and both would end in
// about half that time (a slow machine only makes the run longer, never shorter).
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { getJob, insertTick } from '../../catalog/queries/jobs.ts';
import { seededBytes } from '../fixtures/tree-gen.ts';
import { makeWorld, type World } from './world.ts';

const RATE = 100_000; // bytes/s at xian-c
const BYTES = 600_000; // random, so it neither compresses nor deduplicates: ~BYTES of packs each
const NEVER = '0 0 1 1 *';
const DAY = 86_400_000;

let world: World | undefined;
const opened: CatalogDb[] = [];

afterAll(async () => {
  for (const db of opened) await db.close();
  if (world) await rm(world.tmp, { recursive: true, force: true });
});

describe('per-site bandwidth in one daemon', () => {
  it('holds for two concurrent jobs reading from one site: they take at least the time their sum needs', async () => {
    world = await makeWorld(
      'bandwidth',
      { scrub: NEVER, drill: NEVER },
      { drillSites: ['xian-c'] },
    );
    const w = world;
    const drilled = ['hospitals', 'shelters'];
    for (const c of drilled) {
      await writeFile(path.join(w.sources[c]!, 'plan.bin'), seededBytes(`bw-${c}`, BYTES));
      await w.cli(['snapshot', '--contract', c]);
    }
    const db = await w.open();
    opened.push(db);
    // Limit the site now (the snapshots above shipped at full speed): what `site add --bandwidth`
    // records; each command reads it when it opens the site.
    await db.query('update sites set bandwidth_bytes_per_sec = $1 where name = $2', [RATE, 'xian-c']);
    // The daemon runs a day in the past (the skew seam): no contract existed then, so it schedules
    // nothing of its own and runs only the two drills put in below.
    const { rows } = await db.query<{ t: Date }>(`select date_trunc('second', now() - interval '2 days') as t`);
    const ids: number[] = [];
    for (const c of drilled) ids.push((await insertTick(db, { contract: c, kind: 'drill', tick: rows[0]!.t }))!);

    const { daemon, db: ddb } = await w.daemon('bw', { concurrency: 2, skewMs: () => -DAY });
    opened.push(ddb);
    const started = performance.now();
    await daemon.runOnce();
    const seconds = (performance.now() - started) / 1000;

    for (const id of ids) expect(await getJob(db, id)).toMatchObject({ state: 'done', attempts: 1 });
    // Both ran at once, each a drill from xian-c alone, each restoring at least BYTES.
    const { rows: drills } = await db.query<{ site: string; bytes: string }>(
      `select t.name as site, d.bytes from drills d join sites t on t.id = d.site_id order by d.id`,
    );
    expect(drills.map((d) => d.site)).toEqual(['xian-c', 'xian-c']);
    const total = drills.reduce((sum, d) => sum + Number(d.bytes), 0);
    expect(total).toBeGreaterThanOrEqual(2 * BYTES);
    // One bucket holds a burst of one second of rate, and a get pays for its bytes after they
    // arrived (so each job's last pack, 64 KiB, may go unpaid): the rest of the sum flows at RATE.
    const floor = (2 * BYTES - RATE - 2 * 65_536) / RATE;
    console.log(`two concurrent drills of ${total} bytes from a site at ${RATE} B/s: ${seconds.toFixed(1)} s (the sum needs >= ${floor} s)`);
    expect(seconds).toBeGreaterThanOrEqual(floor);
  }, 120_000);
});
