// Prune racing a backup, on two real Ceph RGW buckets and a PostgreSQL catalog (shared, so the
// snapshot and prune run at the same time as two daemons would). The old snapshot is forgotten;
// a new snapshot that shares much of its data starts (its dedup index holds the old packs), and
// while it is still running prune marks the old packs and then runs its delete phase with the
// database clock moved past the grace. Afterwards every pack the new snapshot needs is at both
// sites, both restore it byte for byte, and further prune runs delete exactly the forgotten
// snapshot's own packs: what is left at each site is what the new snapshot needs.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { listRuns } from '../../catalog/queries/runs.ts';
import { systemClock } from '../../core/clock.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import { neededPacks } from '../../replicator/ship/needed-packs.ts';
import { PruneWorld } from '../fixtures/prune-world.ts';
import { seededBytes } from '../fixtures/tree-gen.ts';
import { createDatabase } from '../servers/postgres.ts';

const ceph = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const cephSite = ceph;

let world: PruneWorld | undefined;
afterAll(async () => {
  await world?.dispose();
});

async function bucket(): Promise<string> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: cephSite.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: cephSite.accessKeyId, secretAccessKey: cephSite.secretAccessKey },
  });
  const name = `prune-${randomBytes(4).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('prune racing a snapshot on Ceph RGW', () => {
  it('keeps every pack a running snapshot needs, and eventually deletes the forgotten one\'s', async () => {
    const ref = 'PRUNE_CEPH';
    const env = { [`${ref}_ACCESS_KEY_ID`]: cephSite.accessKeyId, [`${ref}_SECRET_ACCESS_KEY`]: cephSite.secretAccessKey };
    const url = async (): Promise<string> => `s3://${await bucket()}/repo?endpoint=${cephSite.endpoint}&credentials=env:${ref}`;
    const catalogUrl = await createDatabase(inject('georepPostgresUrl'), `prune_${randomBytes(4).toString('hex')}`);
    // Site b is paced, so the new snapshot is still shipping (its run open) while prune runs.
    const w = (world = await PruneWorld.create({
      sites: [
        { name: 'a', url: await url() },
        { name: 'b', url: await url(), add: ['--bandwidth', '2MiB/s'] },
      ],
      catalogUrl,
      env,
    }));

    const old = await w.dataset('old', 3_000_000);
    const oldId = await w.snapshot(old);
    await w.forget(oldId);
    // The new tree shares the old one's files and has much new data of its own.
    const fresh = await w.dataset('new', 12_000_000);
    await writeFile(path.join(fresh, 'carried-over.bin'), seededBytes('unique-old', 3_000_000).subarray(0, 1_500_000));

    const snapshot = w.cli(['snapshot', fresh, '--to', 'a,b', '--json']);
    // Prune starts once the snapshot's run is recorded (before it reads the marks and the index).
    const running = async (): Promise<boolean> =>
      w.withDb(async (db) => (await listRuns(db, { kind: 'snapshot' })).some((r) => r.finishedAt === null));
    for (let i = 0; i < 200 && !(await running()); i++) await sleep(50);
    expect(await running()).toBe(true);

    const mark = await w.prune({ shiftHours: 0 });
    expect(mark.failed).toEqual([]);
    const markedOld = mark.sites.map((s) => s.packs.filter((p) => p.action === 'mark').length);
    expect(markedOld.every((n) => n > 0)).toBe(true);
    const late = await w.prune({ shiftHours: 25 });
    expect(await running(), 'the snapshot finished before the delete phase: make its tree bigger').toBe(true);
    expect(late.failed).toEqual([]);

    const result = await snapshot;
    expect(result.code, result.stderr).toBe(0);
    const newId = (JSON.parse(result.stdout) as { id: string }).id;
    for (const name of ['a', 'b']) {
      expect((await needsAll(w, name, newId)).missing).toEqual([]);
      expect(await w.expectRestores(newId, name, fresh)).toBe(true);
    }

    // Later runs: mark what is still unreferenced, and delete it after the grace.
    await w.prune({ shiftHours: 25 });
    await w.prune({ shiftHours: 50 });
    for (const name of ['a', 'b']) {
      const { needed, listed } = await needsAll(w, name, newId);
      expect([...listed].sort()).toEqual([...needed].sort());
      expect(await w.expectRestores(newId, name, fresh)).toBe(true);
    }
  }, 180_000); // ~35 s alone; a loaded CI machine has taken 58 s
});

/** Which packs the snapshot needs at the site (by the site's own index) and which are missing. */
async function needsAll(
  w: PruneWorld,
  name: string,
  snapshot: string,
): Promise<{ missing: string[]; needed: Set<string>; listed: Set<string> }> {
  const site = await w.openSite(name);
  try {
    const repo = await Repository.open(site, w.password, { clock: systemClock });
    const { index } = await loadMasterIndex(repo);
    const manifest = validateSnapshot(await repo.loadObject('snapshot', snapshot), snapshot);
    const needed = await neededPacks(new BlobReader(repo, index), index, manifest.tree);
    const listed = await w.packs(name);
    const missing = [...needed].filter((p) => !listed.has(p));
    return { missing, needed, listed };
  } finally {
    await site.close();
  }
}
