// Geo-redundant shipping end to end, on four partner sites: three Ceph RGW gateways (two of the
// run's, and one this file owns so it can kill and restart it) and one file:// folder; the CLI's
// catalog on the embedded PGlite and on the run's PostgreSQL (a database per test block).
// A snapshot is built once in local staging and the same bytes go to every site, the manifest last
// at each; each site then restores on its own. A gateway killed while packs are uploading to it is
// behind with its reason, the others commit, and `georep ship` catches it up once it is back; with
// the staging folder lost, `georep ship` copies the snapshot from the sites holding it. A site over
// its quota is behind with a quota error. Attach refuses another repository.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSite } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { Repository } from '../../repository/repository.ts';
import { attachRepository } from '../../replicator/ship/attach.ts';
import { ForeignRepositoryError } from '../../replicator/ship/errors.ts';
import { ReadFallbackSite } from '../../replicator/ship/fallback-site.ts';
import { loadShipIndex } from '../../replicator/ship/ship-index.ts';
import { shipSnapshot } from '../../replicator/ship/ship.ts';
import { snapshotDirectory } from '../../replicator/snapshot/snapshot-directory.ts';
import type { PutBody, PutOptions, PutResult, Site } from '../../sites/site.ts';
import { ForwardingSite } from '../../sites/wrappers/forwarding.ts';
import { startCephSite, type CephSite } from '../servers/ceph.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { treeBytes } from '../fixtures/compare-trees.ts';
import { bucketSite, catalogEnv, CATALOGS, cephSites, folderSite, type S3Endpoint, type SiteSpec } from './fixtures.ts';

const [cephA, cephC, cephL] = cephSites(3) as [S3Endpoint, S3Endpoint, S3Endpoint];

const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const FAST_KDF_PARAMS = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

let owned: CephSite;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-ship-'));
  owned = await startCephSite();
});
afterAll(async () => {
  await owned?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const s3Site = bucketSite;
const fileSite = (label: string): Promise<SiteSpec> => folderSite(tmp, label);

async function dataset(name: string, files: number, size: number): Promise<string> {
  const dir = path.join(tmp, `${name}-${randomBytes(3).toString('hex')}`);
  await mkdir(path.join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(path.join(dir, i % 2 ? 'sub' : '', `f${i}.bin`), randomBytes(size));
  await writeFile(path.join(dir, 'README.txt'), 'flood maps\n');
  return dir;
}

/** Records the keys put, in order; what the test checks "commit last" with. */
class RecordingSite extends ForwardingSite {
  readonly puts: string[] = [];
  override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    const result = await super.put(key, body, options);
    this.puts.push(key);
    return result;
  }
}

describe('shipping, library level', () => {
  it('ships the same bytes to four sites (three Ceph, one folder), the manifest last at each; attach refuses another repository', async () => {
    const ctx = { env: {}, clock: systemClock, logger: silentLogger() };
    const specs = [await s3Site(cephA, 'liba'), await s3Site(cephC, 'libb'), await s3Site(cephL, 'libc'), await fileSite('libd')];
    const opened = await Promise.all(specs.map((s) => openSite(s.url, { ...ctx, env: s.env })));
    const stagingDir = path.join(tmp, 'lib-staging');
    await mkdir(stagingDir);
    const stagingSite = await openSite(`file://${stagingDir}`, ctx);
    try {
      const first = await Repository.init(opened[0]!, PASSWORD, {
        clock: systemClock,
        host: 'h',
        user: 'u',
        kdf: FAST_KDF_PARAMS,
        chunker: { avg: 16 * 1024 },
        packSize: 64 * 1024,
      });
      const targets = opened.map((site, i) => ({ name: `t${i}`, site: new RecordingSite(site) as Site }));
      expect(await attachRepository(first, targets[1]!.site)).toBe('attached');
      expect(await attachRepository(first, targets[2]!.site)).toBe('attached');
      expect(await attachRepository(first, targets[3]!.site)).toBe('attached');
      expect(await attachRepository(first, targets[3]!.site)).toBe('same');
      await attachRepository(first, stagingSite);
      const staging = await Repository.open(new ReadFallbackSite(stagingSite, targets.map((t) => t.site)), PASSWORD, {
        clock: systemClock,
      });
      const shipIndex = await loadShipIndex(staging, stagingSite, targets.map((t) => t.site), ctx.logger);
      const source = await dataset('lib-data', 6, 40_000);
      const snap = await snapshotDirectory({
        repo: staging,
        index: shipIndex.index,
        source,
        cacheDir: path.join(tmp, 'lib-cache'),
        clock: systemClock,
        host: 'h',
        user: 'u',
        program: 'test',
      });
      const result = await shipSnapshot({
        snapshotId: snap.id,
        staging,
        stagingSite,
        targets,
        clock: systemClock,
        logger: ctx.logger,
      });
      expect(result.outcomes.map((o) => o.state)).toEqual(['committed', 'committed', 'committed', 'committed']);
      expect(result.packs).toBe(snap.packs.length);
      for (const t of targets) {
        const puts = (t.site as RecordingSite).puts;
        const shipped = puts.filter((k) => !k.startsWith('keys/') && k !== 'config');
        expect(shipped.at(-1)).toBe(`snapshots/${snap.id}`);
        expect(shipped.filter((k) => k.startsWith('data/'))).toHaveLength(result.packs);
        const lastData = shipped.findLastIndex((k) => k.startsWith('data/'));
        const firstIndex = shipped.findIndex((k) => k.startsWith('index/'));
        expect(firstIndex).toBeGreaterThan(lastData);
      }
      // Shipping again uploads nothing: the manifest is there.
      const again = await shipSnapshot({ snapshotId: snap.id, staging, stagingSite, targets, clock: systemClock, logger: ctx.logger });
      expect(again.outcomes.every((o) => o.alreadyCommitted)).toBe(true);

      // A site holding another repository (same password, so its id can be named) is refused.
      const otherDir = path.join(tmp, 'other-repo');
      await mkdir(otherDir);
      const otherSite = await openSite(`file://${otherDir}`, ctx);
      const other = await Repository.init(otherSite, PASSWORD, { clock: systemClock, host: 'h', user: 'u', kdf: FAST_KDF_PARAMS });
      const refusal = await attachRepository(first, otherSite, {
        openOther: async (s) => (await Repository.open(s, PASSWORD, { clock: systemClock })).config.id,
      }).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(ForeignRepositoryError);
      expect((refusal as Error).message).toContain(other.config.id);
      expect((refusal as Error).message).toContain(first.config.id);
      await otherSite.close();
    } finally {
      await Promise.all([...opened, stagingSite].map((s) => s.close()));
    }
  });
});


/** Objects under data/ at a site, listed with the site's own listing. */
async function packCount(site: Site): Promise<number> {
  let n = 0;
  for await (const info of site.list('data/')) if (info.size > 0) n++;
  return n;
}

interface StatusJson {
  sites: { site: string; latest: { snapshot: string } | null; behind: { snapshot: string; state: string; error: string | null }[] }[];
  staging: { pendingSnapshots: string[]; packs: number; bytes: number }[];
}

interface ShipJson {
  snapshots: { snapshot: string; fromCatalog: boolean; outcomes: { site: string; state: string; alreadyCommitted: boolean; packsUploaded: number }[] }[];
}

describe.each(CATALOGS)('georep snapshot --to / ship / status, catalog on %s', (catalog) => {
  let home: string;
  let env: Record<string, string>;
  const urls: Record<string, string> = {};

  const georep = (args: string[]): Promise<CliResult> =>
    runCli(args, { env: { ...env, GEOREP_PASSWORD: PASSWORD, GEOREP_HOME: home } });
  const ok = async (args: string[], code = 0): Promise<CliResult> => {
    const r = await georep(args);
    if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
    return r;
  };
  const status = async (): Promise<StatusJson> => JSON.parse((await ok(['status', '--json'])).stdout) as StatusJson;
  const restoresIdentically = async (site: string, source: string): Promise<void> => {
    const target = path.join(tmp, `restore-${randomBytes(3).toString('hex')}`);
    await ok(['restore', 'latest', '--to', target, '--site', urls[site]!]);
    expect(await treeBytes(target)).toEqual(await treeBytes(source));
  };
  const where = ['--region', 'test', '--lat', '50', '--lon', '8', '--jurisdiction', 'DE', '--no-probe'];

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmp, `home-${catalog}-`));
    const a = await s3Site(cephA, `${catalog}a`);
    const b = await s3Site(owned, `${catalog}b`);
    const c = await s3Site(cephC, `${catalog}c`);
    const d = await fileSite(`${catalog}d`);
    env = { ...a.env, ...b.env, ...c.env, ...(await catalogEnv(catalog, 'cli')) };
    Object.assign(urls, { a: a.url, b: b.url, c: c.url, d: d.url });
    await ok(['init', '--site', a.url, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
    for (const [name, url] of Object.entries(urls)) {
      // b is paced, so a ship to it lasts long enough to kill its gateway in the middle.
      await ok(['site', 'add', name, url, ...where, ...(name === 'b' ? ['--bandwidth', '1MiB/s'] : [])]);
    }
  });

  it('commits at all four sites, each restores byte-identical on its own', async () => {
    const source = await dataset('cli-data', 8, 30_000);
    const r = await ok(['snapshot', source, '--to', 'a,b,c,d', '--json']);
    const out = JSON.parse(r.stdout) as { id: string; sites: { site: string; state: string }[]; stagingReleased: boolean };
    expect(out.sites.map((s) => [s.site, s.state])).toEqual([
      ['a', 'committed'],
      ['b', 'committed'],
      ['c', 'committed'],
      ['d', 'committed'],
    ]);
    expect(out.stagingReleased).toBe(true);
    for (const site of ['a', 'b', 'c', 'd']) await restoresIdentically(site, source);
    for (const s of (await status()).sites) {
      expect(s.latest?.snapshot).toBe(out.id);
      expect(s.behind).toEqual([]);
    }
  });

  it('a gateway killed while packs upload to it: the others commit, it is behind (exit 3); georep ship brings it level', async () => {
    // ~48 packs of 64 KiB: about 3 s to b at its 1 MiB/s.
    const source = await dataset('cli-mid', 12, 256_000);
    const siteB = await openSite(urls.b!, { env, clock: systemClock, logger: silentLogger() });
    let id: string;
    let atKill = 0;
    try {
      const before = await packCount(siteB);
      let settled = false;
      const run = ok(['snapshot', source, '--to', 'a,b,c,d', '--json'], 3).finally(() => (settled = true));
      run.catch(() => undefined);
      // Killed once uploads to b are under way: at least 4 new packs there.
      while (!settled) {
        atKill = (await packCount(siteB)) - before;
        if (atKill >= 4) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (settled) throw new Error(`the run ended before uploads to b were under way (${atKill} packs there)`);
      await owned.killGateway();
      const out = JSON.parse((await run).stdout) as {
        id: string;
        packs: number;
        sites: { site: string; state: string; packsUploaded: number; error?: { message: string } }[];
      };
      id = out.id;
      expect(out.sites.map((s) => [s.site, s.state])).toEqual([
        ['a', 'committed'],
        ['b', 'behind'],
        ['c', 'committed'],
        ['d', 'committed'],
      ]);
      // In the middle: some of its packs had arrived, not all.
      expect(atKill).toBeLessThan(out.packs);
      expect(out.sites[1]!.error?.message).toBeTruthy();
      const st = await status();
      const b = st.sites.find((s) => s.site === 'b')!;
      expect(b.behind).toEqual([{ snapshot: id, state: 'behind', error: expect.any(String) as unknown }]);
      expect(b.latest?.snapshot).not.toBe(id);
      expect(st.sites.find((s) => s.site === 'a')!.latest?.snapshot).toBe(id);
      expect(st.staging[0]!.pendingSnapshots).toEqual([id]);
      expect(st.staging[0]!.bytes).toBeGreaterThan(0);
      expect((await ok(['status'])).stdout).toMatch(new RegExp(`^b\\s.*${id.slice(0, 12)} behind: \\S`, 'm'));
    } finally {
      await owned.restartGateway();
      await siteB.close();
    }
    const shipped = JSON.parse((await ok(['ship', '--json'])).stdout) as ShipJson;
    expect(shipped.snapshots.map((s) => s.snapshot)).toEqual([id]);
    expect(shipped.snapshots[0]!.outcomes.map((o) => [o.site, o.state, o.alreadyCommitted])).toEqual([
      ['a', 'committed', true],
      ['b', 'committed', false],
      ['c', 'committed', true],
      ['d', 'committed', true],
    ]);
    await restoresIdentically('b', source);
    const st = await status();
    expect(st.sites.find((s) => s.site === 'b')!.latest?.snapshot).toBe(id);
    expect(st.sites.every((s) => s.behind.length === 0)).toBe(true);
    expect(st.staging[0]).toMatchObject({ pendingSnapshots: [], packs: 0 });
    expect((await ok(['ship'])).stdout).toContain('nothing waits in staging');
  });

  it('staging lost: georep ship copies the snapshot to the site behind from the sites holding it', async () => {
    const source = await dataset('cli-lost', 6, 30_000);
    await owned.killGateway();
    let id: string;
    try {
      const r = JSON.parse((await ok(['snapshot', source, '--to', 'a,b,c,d', '--json'], 3)).stdout) as { id: string };
      id = r.id;
    } finally {
      await owned.restartGateway();
    }
    // The staging folder is gone (a new machine, a wiped disk): only the catalog knows b is behind.
    await rm(path.join(home, 'staging'), { recursive: true, force: true });
    const shipped = JSON.parse((await ok(['ship', '--json'])).stdout) as ShipJson;
    expect(shipped.snapshots).toHaveLength(1);
    const s = shipped.snapshots[0]!;
    expect(s).toMatchObject({ snapshot: id, fromCatalog: true });
    expect(s.outcomes.find((o) => o.site === 'b')).toMatchObject({ state: 'committed', alreadyCommitted: false });
    expect(s.outcomes.find((o) => o.site === 'b')!.packsUploaded).toBeGreaterThan(0);
    expect(s.outcomes.filter((o) => o.site !== 'b').every((o) => o.alreadyCommitted)).toBe(true);
    await restoresIdentically('b', source);
    expect((await status()).sites.every((x) => x.behind.length === 0)).toBe(true);
    expect((await ok(['ship'])).stdout).toContain('every site has every snapshot');
  });

  it('a site over its quota is behind with a quota error, for that site only; the others commit', async () => {
    const creds = await owned.createUser({ uid: `quota-${catalog}-${randomBytes(3).toString('hex')}`, quotaBytes: 64 * 1024 });
    const q = await s3Site({ endpoint: owned.endpoint, ...creds }, `${catalog}q`);
    env = { ...env, ...q.env };
    await ok(['site', 'add', 'q', q.url, ...where]);
    const source = await dataset('cli-quota', 4, 50_000);
    const r = await ok(['snapshot', source, '--to', 'a,c,d,q', '--json'], 3);
    const out = JSON.parse(r.stdout) as { sites: { site: string; state: string; error?: { code: string; message: string } }[] };
    expect(out.sites.map((s) => s.state)).toEqual(['committed', 'committed', 'committed', 'behind']);
    expect(out.sites[3]!.error?.code).toBe('SITE_QUOTA_EXCEEDED');
    expect(out.sites.slice(0, 3).every((s) => s.error === undefined)).toBe(true);
    const q2 = (await status()).sites.find((s) => s.site === 'q')!;
    expect(q2.behind[0]!.error).toMatch(/quota/i);
    await restoresIdentically('c', source);
  });

  it('refuses to attach a site holding another repository', async () => {
    const other = await fileSite(`${catalog}-other`);
    await ok(['init', '--site', other.url, ...FAST_KDF]);
    const source = await dataset('cli-foreign', 1, 1000);
    const r = await ok(['snapshot', source, '--to', `a,${other.url}`], 2);
    expect(r.stderr).toMatch(/holds repository [0-9a-f]{64}, not repository [0-9a-f]{64}/);
  });
});
