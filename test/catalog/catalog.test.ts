// The catalog's contract, run unchanged on both backends: PGlite in a temp folder and the real
// PostgreSQL of the test run. Concurrency cases run on both too: on PostgreSQL they race two pools
// (two daemons); on PGlite, one connection, they show that serializing loses nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { dbNow } from '../../catalog/clock.ts';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { MIGRATIONS, type Migration } from '../../catalog/migrations/index.ts';
import { appendAudit, listAudit } from '../../catalog/queries/audit.ts';
import { applyContract, latestContractVersion, listContractVersions } from '../../catalog/queries/contracts.ts';
import { getDataset, listDatasets, putDataset } from '../../catalog/queries/datasets.ts';
import { getGeneration, nextGeneration, observeGeneration } from '../../catalog/queries/generations.ts';
import {
  claimNextJob,
  countJobs,
  extendLease,
  finishJob,
  getJob,
  insertTick,
  listJobs,
  releaseJob,
  type ClaimedJob,
} from '../../catalog/queries/jobs.ts';
import { linkSnapshotPacks, listPackSites, packsMissingAt, recordPacks, setPackSite } from '../../catalog/queries/packs.ts';
import { attachRepository, ensureRepository, listSiteRepositories } from '../../catalog/queries/repositories.ts';
import { finishRun, getRun, listRuns, startRun } from '../../catalog/queries/runs.ts';
import { addSite, getSite, listSites, removeSite, setCapabilities } from '../../catalog/queries/sites.ts';
import {
  getSnapshot,
  latestCommitted,
  listSnapshotStates,
  recordSnapshot,
  setSnapshotSiteState,
} from '../../catalog/queries/snapshots.ts';
import type { SnapshotManifest } from '../../repository/types.ts';
import { pgliteBackend, postgresBackend, type Backend } from './backends.ts';

// Migrations this georep carries: the tests follow when one is added.
const LATEST = MIGRATIONS.length;
const ALL = MIGRATIONS.map((m) => m.version);

const hex = (): string => randomBytes(32).toString('hex');
const name = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function manifest(overrides: Partial<SnapshotManifest> = {}): SnapshotManifest {
  return {
    version: 1,
    time: '2026-11-26T18:00:00.123Z',
    host: 'ops-1',
    user: 'ops',
    paths: ['/srv/gis/flood'],
    tags: ['nightly'],
    tree: hex(),
    parent: null,
    source: { type: 'directory' },
    summary: { files: 20150, dirs: 310, bytes: 1073741824, newBytes: 5, storedBytes: 7 },
    program: 'georep 0.1.0',
    ...overrides,
  };
}

async function count(db: CatalogDb, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: unknown }>(sql, params);
  return Number(rows[0]?.n);
}

const backends: [string, () => Promise<Backend>][] = [
  ['pglite', () => pgliteBackend()],
  ['postgres', () => postgresBackend(inject('georepPostgresUrl'))],
];

describe.each(backends)('catalog on %s', (_kind, makeBackend) => {
  let backend: Backend;
  // One migrated catalog shared by the round-trip cases; each uses names of its own.
  let db: CatalogDb;
  let failed = false;

  beforeAll(async () => {
    backend = await makeBackend();
    db = await backend.fresh();
    await migrate(db);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (!backend) return;
    const keep = failed || Boolean(process.env.KEEP);
    await backend.dispose(keep);
    if (keep) console.log(`catalog test data kept: ${backend.location}`);
    if (backend.kind === 'pglite') {
      const { firstOpenMs, reopenMs } = backend.timings;
      console.log(`PGlite: new folder ${firstOpenMs} ms, reopen ${reopenMs.join('/')} ms`);
    }
  });

  describe('migrations', () => {
    it('apply once, and a second run applies nothing', async () => {
      const fresh = await backend.fresh();
      try {
        expect(await migrate(fresh)).toEqual({ applied: ALL, version: LATEST });
        expect(await migrate(fresh)).toEqual({ applied: [], version: LATEST });
        expect(await count(fresh, 'select count(*) as n from schema_migrations')).toBe(LATEST);
      } finally {
        await fresh.close();
      }
    });

    it('run by two daemons at once are applied once, and both succeed', async () => {
      const first = await backend.fresh();
      const second = await backend.peer(first);
      try {
        const results = await Promise.all([migrate(first), migrate(second), migrate(first)]);
        expect(results.flatMap((r) => r.applied).sort()).toEqual(ALL);
        expect(results.map((r) => r.version)).toEqual([LATEST, LATEST, LATEST]);
        expect(await count(second, 'select count(*) as n from schema_migrations')).toBe(LATEST);
      } finally {
        await second.close();
        await first.close();
      }
    });

    it('roll back a migration that fails, whole', async () => {
      const fresh = await backend.fresh();
      const broken: Migration = {
        version: LATEST + 1,
        name: 'broken',
        sql: 'create table half_done (x int); select 1 / 0;',
      };
      try {
        await expect(migrate(fresh, [...MIGRATIONS, broken])).rejects.toMatchObject({ code: '22012' });
        expect(await count(fresh, 'select max(version) as n from schema_migrations')).toBe(LATEST);
        expect(await count(fresh, `select count(*) as n from pg_tables where tablename = 'half_done'`)).toBe(0);
      } finally {
        await fresh.close();
      }
    });

    it('refuse a catalog migrated by a newer georep, and an edited migration', async () => {
      const fresh = await backend.fresh();
      const later: Migration = { version: LATEST + 1, name: 'later', sql: 'create table later_thing (x int);' };
      try {
        expect(await migrate(fresh, [...MIGRATIONS, later])).toEqual({ applied: [...ALL, LATEST + 1], version: LATEST + 1 });
        await expect(migrate(fresh)).rejects.toMatchObject({
          code: 'CATALOG_TOO_NEW',
          message: expect.stringMatching(new RegExp(`schema version ${LATEST + 1} .*knows versions up to ${LATEST}`)) as unknown,
        });
        const edited = { ...later, sql: 'create table later_thing (x bigint);' };
        await expect(migrate(fresh, [...MIGRATIONS, edited])).rejects.toMatchObject({
          code: 'CATALOG_MIGRATION_MISMATCH',
        });
      } finally {
        await fresh.close();
      }
    });
  });

  describe('the database handle', () => {
    it('commits a transaction, and rolls one back when its body throws', async () => {
      const dataset = name('tx');
      await db.transaction((tx) => putDataset(tx, dataset, { type: 'directory' }));
      expect(await getDataset(db, dataset)).not.toBeNull();
      const other = name('tx');
      await expect(
        db.transaction(async (tx) => {
          await putDataset(tx, other, {});
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await getDataset(db, other)).toBeNull();
    });

    it('nests transactions as savepoints', async () => {
      const [kept, undone] = [name('outer'), name('inner')];
      await db.transaction(async (tx) => {
        await putDataset(tx, kept, {});
        await expect(
          tx.transaction(async (inner) => {
            await putDataset(inner, undone, {});
            throw new Error('inner fails');
          }),
        ).rejects.toThrow('inner fails');
      });
      expect(await getDataset(db, kept)).not.toBeNull();
      expect(await getDataset(db, undone)).toBeNull();
    });

    it('refuses the outer handle inside its own transaction, instead of hanging', async () => {
      await expect(db.transaction(() => db.query('select 1'))).rejects.toMatchObject({ code: 'CATALOG_MISUSE' });
      let leaked: CatalogDb | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked?.query('select 1')).rejects.toMatchObject({ code: 'CATALOG_MISUSE' });
      await expect(db.transaction(() => db.close())).rejects.toMatchObject({ code: 'CATALOG_MISUSE' });
      await expect(db.transaction((tx) => tx.close())).rejects.toMatchObject({ code: 'CATALOG_MISUSE' });
    });

    it('lets close() wait for a transaction in flight, then refuses calls', async () => {
      const fresh = await backend.fresh();
      await migrate(fresh);
      const dataset = name('late');
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const work = fresh.transaction(async (tx) => {
        entered();
        await sleep(100);
        await putDataset(tx, dataset, {});
        return 'committed';
      });
      await inside;
      await Promise.all([fresh.close(), fresh.close()]);
      expect(await work).toBe('committed');
      await expect(getDataset(fresh, dataset)).rejects.toMatchObject({ code: 'CATALOG_MISUSE' });
    });

    it('runs one statement per query, several per exec', async () => {
      await expect(db.query('select 1; select 2')).rejects.toThrow(/multiple commands/);
      await db.exec('create temporary table if not exists scratch (x int); drop table scratch;');
    });

    it('passes the SQLSTATE of a failed statement through', async () => {
      const site = name('dup');
      await addSite(db, { name: site, url: 'file:///srv/a' });
      await expect(db.query(`insert into sites (name, url) values ($1, 'x')`, [site])).rejects.toMatchObject({
        code: '23505',
      });
      await expect(db.query(`insert into sites (name, url) values ('bad name', 'x')`)).rejects.toMatchObject({
        code: '23514',
      });
    });

    it('reads time from the database clock', async () => {
      const before = Date.now();
      const now = (await dbNow(db)).getTime();
      // Same host here, so the clocks agree closely.
      expect(Math.abs(now - before)).toBeLessThan(5_000);
      await db.transaction(async (tx) => {
        const first = await dbNow(tx);
        await sleep(5);
        expect(await dbNow(tx)).toEqual(first); // now() is the transaction's start
      });
    });
  });

  describe('sites', () => {
    it('round-trip, removed softly, and a removed name can be used again', async () => {
      const site = name('oslo');
      const spec = {
        name: site,
        url: 's3://bucket/georep?endpoint=https://s3.example&credentials=env:OSLO',
        region: 'eu-north',
        lat: 59.91,
        lon: 10.75,
        jurisdiction: 'NO',
        operator: 'DSB',
        credentialsRef: 'env:OSLO',
        quotaBytes: 5e12,
        bandwidthBytesPerSec: 12_500_000,
        storageClass: 'STANDARD',
      };
      const added = await addSite(db, spec);
      expect(added).toMatchObject({ ...spec, capabilities: null, probedAt: null, removedAt: null });
      expect(added.createdAt).toBeInstanceOf(Date);
      expect(await getSite(db, site)).toEqual(added);
      await expect(addSite(db, { name: site, url: 'file:///x' })).rejects.toMatchObject({ code: 'CATALOG_CONFLICT' });

      await setCapabilities(db, site, { createOnly: true, objectLock: false });
      const probed = await getSite(db, site);
      expect(probed?.capabilities).toEqual({ createOnly: true, objectLock: false });
      expect(probed?.probedAt).toBeInstanceOf(Date);
      await expect(setCapabilities(db, name('nowhere'), {})).rejects.toMatchObject({ code: 'CATALOG_NOT_FOUND' });

      expect((await listSites(db)).map((s) => s.name)).toContain(site);
      expect(await removeSite(db, site)).toBe(true);
      expect(await removeSite(db, site)).toBe(false);
      expect(await getSite(db, site)).toBeNull();
      expect((await listSites(db)).map((s) => s.name)).not.toContain(site);
      const all = await listSites(db, { includeRemoved: true });
      expect(all.find((s) => s.name === site)?.removedAt).toBeInstanceOf(Date);

      const again = await addSite(db, { name: site, url: 'file:///srv/new' });
      expect(again).toMatchObject({ name: site, url: 'file:///srv/new', region: null, lat: null });
    });

    it('refuse a credentials value that is not a reference', async () => {
      await expect(
        addSite(db, { name: name('leaky'), url: 'file:///x', credentialsRef: 'AKIA-secret-key' }),
      ).rejects.toMatchObject({ code: '23514' });
    });
  });

  describe('repositories and generations', () => {
    it('record which sites hold a repository', async () => {
      const [site, repo] = [name('site'), hex()];
      await addSite(db, { name: site, url: 'file:///srv/r' });
      await attachRepository(db, site, repo);
      await attachRepository(db, site, repo);
      const held = await listSiteRepositories(db, site);
      expect(held.map((h) => h.repository)).toEqual([repo]);
      expect(held[0]?.since).toBeInstanceOf(Date);
    });

    it('count generations up, and notice a site that shows an older one', async () => {
      const [site, repo] = [name('gen'), hex()];
      await addSite(db, { name: site, url: 'file:///srv/g' });
      await ensureRepository(db, repo);
      expect(await getGeneration(db, site, repo)).toBe(0);
      expect(await nextGeneration(db, site, repo)).toBe(1);
      expect(await nextGeneration(db, site, repo)).toBe(2);
      expect(await observeGeneration(db, site, repo, 5)).toEqual({ recorded: 5, rolledBack: false });
      expect(await observeGeneration(db, site, repo, 3)).toEqual({ recorded: 5, rolledBack: true });
      expect(await getGeneration(db, site, repo)).toBe(5);
      const peer = await backend.peer(db);
      try {
        const taken = await Promise.all(
          Array.from({ length: 10 }, (_, i) => nextGeneration(i % 2 ? peer : db, site, repo)),
        );
        expect([...taken].sort((a, b) => a - b)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      } finally {
        await peer.close();
      }
    });
  });

  describe('datasets and contracts', () => {
    it('round-trip datasets', async () => {
      const dataset = name('gis');
      await putDataset(db, dataset, { type: 'directory', path: '/srv/gis' });
      const updated = await putDataset(db, dataset, { type: 'directory', path: '/srv/gis2' });
      expect(updated).toMatchObject({ name: dataset, source: { type: 'directory', path: '/srv/gis2' } });
      expect(await getDataset(db, dataset)).toEqual(updated);
      expect((await listDatasets(db)).map((d) => d.name)).toContain(dataset);
    });

    it('number contract versions, once per distinct document, even when applied concurrently', async () => {
      const contract = name('flood');
      const v1 = await applyContract(db, contract, 'sites: [a]\n', { sites: ['a'] });
      expect(v1).toMatchObject({ created: true, version: { contract, version: 1, parsed: { sites: ['a'] } } });
      expect(await applyContract(db, contract, 'sites: [a]\n')).toMatchObject({
        created: false,
        version: { version: 1 },
      });
      const peer = await backend.peer(db);
      try {
        const applied = await Promise.all([
          applyContract(db, contract, 'sites: [b]\n'),
          applyContract(peer, contract, 'sites: [c]\n'),
        ]);
        expect(applied.map((a) => a.version.version).sort()).toEqual([2, 3]);
      } finally {
        await peer.close();
      }
      const versions = await listContractVersions(db, contract);
      expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
      expect(versions[0]?.document).toBe('sites: [a]\n');
      expect(await latestContractVersion(db, contract)).toEqual(versions[2]);
      expect(await latestContractVersion(db, name('none'))).toBeNull();
    });
  });

  describe('snapshots and packs', () => {
    async function world(): Promise<{ sites: [string, string]; repo: string; dataset: string }> {
      const sites: [string, string] = [name('a'), name('b')];
      const repo = hex();
      const dataset = name('ds');
      for (const site of sites) await addSite(db, { name: site, url: `file:///srv/${site}` });
      await ensureRepository(db, repo);
      await putDataset(db, dataset, { type: 'directory' });
      return { sites, repo, dataset };
    }

    it('record a snapshot from its manifest, once', async () => {
      const { repo, dataset } = await world();
      const id = hex();
      const m = manifest({ parent: hex(), tags: ['a', 'b'] });
      await recordSnapshot(db, { id, repository: repo, dataset, manifest: m });
      await recordSnapshot(db, { id, repository: repo, dataset: null, manifest: m });
      expect(await getSnapshot(db, id)).toEqual({
        id,
        repository: repo,
        dataset,
        takenAt: new Date(m.time),
        host: m.host,
        user: m.user,
        paths: m.paths,
        tags: m.tags,
        tree: m.tree,
        parent: m.parent,
        summary: m.summary,
        program: m.program,
        committedAt: null,
      });
      expect(await count(db, 'select count(*) as n from snapshots where hex = $1', [id])).toBe(1);
      await expect(recordSnapshot(db, { id: hex(), repository: hex(), manifest: m })).rejects.toMatchObject({
        code: 'CATALOG_NOT_FOUND',
      });
    });

    it('take a dataset later for a snapshot recorded without one (a rebuild)', async () => {
      const { repo, dataset } = await world();
      const id = hex();
      await recordSnapshot(db, { id, repository: repo, manifest: manifest() });
      expect((await getSnapshot(db, id))?.dataset).toBeNull();
      await recordSnapshot(db, { id, repository: repo, dataset, manifest: manifest() });
      expect((await getSnapshot(db, id))?.dataset).toBe(dataset);
    });

    it('track per-site state with database commit times, and find the latest committed', async () => {
      const { sites, repo, dataset } = await world();
      const [a, b] = sites;
      const older = hex();
      const newer = hex();
      await recordSnapshot(db, { id: older, repository: repo, dataset, manifest: manifest({ time: '2026-11-01T00:00:00Z' }) });
      await recordSnapshot(db, { id: newer, repository: repo, dataset, manifest: manifest({ time: '2026-11-02T00:00:00Z' }) });
      expect(await latestCommitted(db, a, dataset)).toBeNull();

      await setSnapshotSiteState(db, { snapshot: older, site: a, state: 'uploading' });
      await setSnapshotSiteState(db, { snapshot: older, site: a, state: 'committed' });
      const first = (await getSnapshot(db, older))?.committedAt;
      expect(first).toBeInstanceOf(Date);
      await setSnapshotSiteState(db, { snapshot: older, site: b, state: 'committed' });
      expect((await getSnapshot(db, older))?.committedAt).toEqual(first); // the first site's time stays

      await setSnapshotSiteState(db, { snapshot: newer, site: a, state: 'committed' });
      await setSnapshotSiteState(db, { snapshot: newer, site: b, state: 'failed', error: 'quota exceeded' });
      await expect(setSnapshotSiteState(db, { snapshot: newer, site: b, state: 'failed' })).rejects.toMatchObject({
        code: '23514',
      });
      expect((await latestCommitted(db, a, dataset))?.id).toBe(newer);
      expect((await latestCommitted(db, b, dataset))?.id).toBe(older);

      // A later state keeps the site's commit time.
      await setSnapshotSiteState(db, { snapshot: older, site: b, state: 'behind' });
      const atB = await listSnapshotStates(db, { site: b });
      expect(atB.map((s) => [s.snapshot, s.state, s.error])).toEqual([
        [newer, 'failed', 'quota exceeded'],
        [older, 'behind', null],
      ]);
      expect(atB[1]?.committedAt).toBeInstanceOf(Date);
      expect(atB[0]?.committedAt).toBeNull();
      expect((await latestCommitted(db, b, dataset))).toBeNull();

      const all = await listSnapshotStates(db, { dataset });
      expect(all).toHaveLength(4);
      expect(new Set(all.map((s) => s.dataset))).toEqual(new Set([dataset]));
      await expect(
        setSnapshotSiteState(db, { snapshot: older, site: name('gone'), state: 'pending' }),
      ).rejects.toMatchObject({ code: 'CATALOG_NOT_FOUND' });
    });

    it('say which packs of a snapshot a site still lacks', async () => {
      const { sites, repo } = await world();
      const [a, b] = sites;
      const snapshot = hex();
      await recordSnapshot(db, { id: snapshot, repository: repo, manifest: manifest() });
      const packs = [
        { id: hex(), type: 'data' as const, size: 16_000_000 },
        { id: hex(), type: 'data' as const, size: 9_000_000_000 }, // beyond int4
        { id: hex(), type: 'tree' as const, size: 40_000 },
      ].sort((x, y) => x.id.localeCompare(y.id));
      await recordPacks(db, repo, packs);
      await recordPacks(db, repo, packs);
      await linkSnapshotPacks(db, snapshot, packs.map((p) => p.id));
      await linkSnapshotPacks(db, snapshot, packs.map((p) => p.id));
      expect(await packsMissingAt(db, a, snapshot)).toEqual(packs);

      const [p0, p1, p2] = packs.map((p) => p.id) as [string, string, string];
      await setPackSite(db, { pack: p0, site: a, state: 'uploading' });
      await setPackSite(db, { pack: p0, site: a, state: 'present' });
      await setPackSite(db, { pack: p1, site: a, state: 'present' });
      await setPackSite(db, { pack: p2, site: a, state: 'damaged' });
      expect((await packsMissingAt(db, a, snapshot)).map((p) => p.id)).toEqual([p2]);
      expect(await packsMissingAt(db, b, snapshot)).toEqual(packs);

      const [uploaded] = await listPackSites(db, p0);
      expect(uploaded).toMatchObject({ site: a, state: 'present', verifiedAt: null });
      await setPackSite(db, { pack: p0, site: a, state: 'present', verified: true });
      const [verified] = await listPackSites(db, p0);
      expect(verified?.uploadedAt).toEqual(uploaded?.uploadedAt); // the first upload's time stays
      expect(verified?.verifiedAt).toBeInstanceOf(Date);

      await expect(linkSnapshotPacks(db, snapshot, [hex()])).rejects.toMatchObject({ code: 'CATALOG_NOT_FOUND' });
      await expect(setPackSite(db, { pack: hex(), site: a, state: 'present' })).rejects.toMatchObject({
        code: 'CATALOG_NOT_FOUND',
      });
    });
  });

  describe('runs and the audit log', () => {
    it('round-trip runs', async () => {
      const contract = name('c');
      await applyContract(db, contract, 'x: 1\n');
      const run = await startRun(db, { kind: 'ship', contract, details: { sites: 2 } });
      expect(run).toMatchObject({ kind: 'ship', contract, jobId: null, outcome: null, finishedAt: null });
      const done = await finishRun(db, run.id, 'partial', { failedSites: ['b'] });
      expect(done).toMatchObject({ outcome: 'partial', details: { sites: 2, failedSites: ['b'] } });
      expect(done.finishedAt?.getTime()).toBeGreaterThanOrEqual(run.startedAt.getTime());
      await expect(finishRun(db, run.id, 'succeeded')).rejects.toMatchObject({ code: 'CATALOG_CONFLICT' });
      expect(await getRun(db, run.id)).toEqual(done);
      expect((await listRuns(db, { contract })).map((r) => r.id)).toEqual([run.id]);
    });

    it('append audit entries stamped by the database clock', async () => {
      const subject = name('subject');
      const before = await dbNow(db);
      const entry = await appendAudit(db, { actor: 'ops@host', action: 'site.add', subject, details: { url: 'x' } });
      expect(entry).toMatchObject({ actor: 'ops@host', action: 'site.add', subject, details: { url: 'x' } });
      expect(entry.at.getTime()).toBeGreaterThanOrEqual(before.getTime());
      // A caller cannot backdate an entry: the trigger stamps now() over what was sent.
      await db.query(`insert into audit_log (actor, action, subject, at) values ('x', 'site.remove', $1, $2)`, [
        subject,
        new Date('2001-01-01T00:00:00Z'),
      ]);
      const listed = await listAudit(db, { subject });
      expect(listed.map((e) => e.action)).toEqual(['site.add', 'site.remove']);
      expect(listed[1]?.at.getTime()).toBeGreaterThanOrEqual(before.getTime());
    });

    it('refuses to change or remove audit entries', async () => {
      const entry = await appendAudit(db, { actor: 'ops', action: 'contract.apply' });
      await expect(db.query(`update audit_log set actor = 'mallory' where id = $1`, [entry.id])).rejects.toThrow(
        /append-only: UPDATE refused/,
      );
      await expect(db.query('delete from audit_log where id = $1', [entry.id])).rejects.toThrow(
        /append-only: DELETE refused/,
      );
      await expect(db.query('truncate audit_log')).rejects.toThrow(/append-only: TRUNCATE refused/);
      expect((await listAudit(db, { afterId: entry.id - 1, limit: 1 }))[0]).toEqual(entry);
    });
  });

  describe('jobs', () => {
    async function contractWithTicks(ticks: number, kind = 'snapshot'): Promise<string> {
      const contract = name('jobs');
      await applyContract(db, contract, 'every: 1h\n');
      const start = Date.UTC(2026, 0, 1);
      for (let i = 0; i < ticks; i++) {
        await insertTick(db, { contract, kind, tick: new Date(start + i * 3_600_000) });
      }
      return contract;
    }

    it('insert each tick once, even when inserted concurrently', async () => {
      const contract = name('tick');
      await applyContract(db, contract, 'every: 1h\n');
      const tick = new Date('2026-03-01T12:00:00.000Z');
      const peer = await backend.peer(db);
      try {
        const ids = await Promise.all(
          Array.from({ length: 6 }, (_, i) => insertTick(i % 2 ? peer : db, { contract, kind: 'ship', tick })),
        );
        expect(ids.filter((id) => id !== null)).toHaveLength(1);
      } finally {
        await peer.close();
      }
      expect(await insertTick(db, { contract, kind: 'ship', tick })).toBeNull();
      expect(await insertTick(db, { contract, kind: 'scrub', tick })).not.toBeNull();
      const jobs = await listJobs(db, { contract });
      expect(jobs.map((j) => [j.kind, j.tick.toISOString(), j.state])).toEqual([
        ['ship', tick.toISOString(), 'pending'],
        ['scrub', tick.toISOString(), 'pending'],
      ]);
      await expect(insertTick(db, { contract: name('none'), kind: 'ship', tick })).rejects.toMatchObject({
        code: 'CATALOG_NOT_FOUND',
      });
    });

    it('never give one job to two concurrent claimers', async () => {
      const kind = name('k').replace(/-/g, '');
      const contract = await contractWithTicks(24, kind);
      const peer = await backend.peer(db);
      const claimed: ClaimedJob[] = [];
      const worker = async (handle: CatalogDb, owner: string): Promise<void> => {
        for (;;) {
          const job = await claimNextJob(handle, owner, 60_000, { kinds: [kind] });
          if (!job) return;
          claimed.push(job);
          expect(await finishJob(handle, job, 'done')).toBe(true);
        }
      };
      try {
        await Promise.all([worker(db, 'w1'), worker(peer, 'w2'), worker(db, 'w3'), worker(peer, 'w4')]);
      } finally {
        await peer.close();
      }
      const ids = claimed.map((j) => j.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(24);
      expect(await countJobs(db, contract)).toEqual({ pending: 0, running: 0, done: 24, failed: 0 });
      expect(claimed.every((j) => j.contract === contract && j.kind === kind && j.attempts === 1)).toBe(true);
    });

    it('claim only due jobs, oldest tick first', async () => {
      const contract = name('due');
      const kind = name('d').replace(/-/g, '');
      await applyContract(db, contract, 'every: 1h\n');
      const now = (await dbNow(db)).getTime();
      await insertTick(db, { contract, kind, tick: new Date(now + 3_600_000) });
      await insertTick(db, { contract, kind, tick: new Date(now - 60_000) });
      await insertTick(db, { contract, kind, tick: new Date(now - 120_000) });
      const first = await claimNextJob(db, 'w', 60_000, { kinds: [kind] });
      const second = await claimNextJob(db, 'w', 60_000, { kinds: [kind] });
      expect([first?.tick.getTime(), second?.tick.getTime()]).toEqual([now - 120_000, now - 60_000]);
      expect(await claimNextJob(db, 'w', 60_000, { kinds: [kind] })).toBeNull();
      expect(first?.leaseExpiresAt.getTime()).toBeGreaterThan(now + 50_000);
    });

    it('make a job claimable again when its lease expires, and fence off the old holder', async () => {
      const kind = name('l').replace(/-/g, '');
      await contractWithTicks(1, kind);
      // The lease runs out by the database clock; the later claims read that clock two minutes
      // ahead (skewMs) rather than sleeping past a short lease, which a slow machine could
      // also outlast between the first two claims.
      const later = { skewMs: 120_000 };
      const first = await claimNextJob(db, 'slow', 60_000, { kinds: [kind] });
      expect(first).not.toBeNull();
      if (!first) return;
      expect(await claimNextJob(db, 'fast', 60_000, { kinds: [kind] })).toBeNull();
      expect(await extendLease(db, first, 60_000)).toBeInstanceOf(Date); // still its own until taken
      const second = await claimNextJob(db, 'fast', 60_000, { kinds: [kind], ...later });
      expect(second).toMatchObject({ id: first.id, leaseOwner: 'fast', attempts: 2, state: 'running' });
      if (!second) return;
      expect(await extendLease(db, first, 60_000, later)).toBeNull();
      expect(await finishJob(db, first, 'done')).toBe(false);
      expect(await releaseJob(db, first)).toBe(false);

      const extended = await extendLease(db, second, 120_000, later);
      expect(extended?.getTime()).toBeGreaterThan(second.leaseExpiresAt.getTime());
      expect(await releaseJob(db, second, 'shutting down')).toBe(true);
      const third = await claimNextJob(db, 'next', 60_000, { kinds: [kind] });
      expect(third).toMatchObject({ id: first.id, attempts: 3, lastError: 'shutting down' });
      if (!third) return;
      expect(await finishJob(db, third, 'failed', 'site unreachable')).toBe(true);
      expect(await getJob(db, first.id)).toMatchObject({
        state: 'failed',
        lastError: 'site unreachable',
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect(await claimNextJob(db, 'next', 60_000, { kinds: [kind] })).toBeNull();
    });
  });

  // Last: every handle the cases above opened must be closed by now, except the shared one.
  it('leaves no connection open once closed', async () => {
    const peer = await backend.peer(db);
    await peer.close();
    await db.close();
    await db.close();
    await expect(db.query('select 1')).rejects.toMatchObject({ code: 'CATALOG_MISUSE' });
    // A backend closes its side of a connection asynchronously: give it a moment.
    let open = await backend.openConnections();
    for (let i = 0; i < 50 && open > 0; i++) {
      await sleep(100);
      open = await backend.openConnections();
    }
    expect(open).toBe(0);
  });
});
