// Geo-redundant shipping end to end, on three partner sites: two Ceph RGW gateways (the run's
// shared one, and one this file owns so it can kill and restart it) and one file:// folder.
// A snapshot is built once in local staging and the same bytes go to every site; each site then
// restores on its own. A dead gateway and a site over its quota are behind, the others commit;
// `georep ship` catches the dead one up once it is back. Attach refuses another repository.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
import { startCephSite, type CephSite, type S3Credentials } from '../servers/ceph.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { treeBytes } from '../fixtures/compare-trees.ts';

const shared = inject('georepCephSites')[0];
if (shared === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const sharedCeph = shared;

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

interface S3Endpoint extends S3Credentials {
  endpoint: string;
}

async function bucket(server: S3Endpoint, prefix: string): Promise<string> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

/** An s3:// URL with credentials by reference, and the environment that reference reads. */
async function s3Site(server: S3Endpoint, label: string): Promise<{ url: string; env: Record<string, string> }> {
  const b = await bucket(server, `ship-${label.toLowerCase()}`);
  const ref = `SHIP_${label.toUpperCase()}`;
  return {
    url: `s3://${b}/repo?endpoint=${server.endpoint}&credentials=env:${ref}`,
    env: { [`${ref}_ACCESS_KEY_ID`]: server.accessKeyId, [`${ref}_SECRET_ACCESS_KEY`]: server.secretAccessKey },
  };
}

async function fileSite(label: string): Promise<{ url: string; env: Record<string, string> }> {
  const dir = path.join(tmp, `site-${label}-${randomBytes(3).toString('hex')}`);
  await mkdir(dir);
  return { url: `file://${dir}`, env: {} };
}

async function dataset(name: string, files: number, size: number): Promise<string> {
  const dir = path.join(tmp, name);
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
  it('ships the same bytes to three sites, the manifest last at each; attach refuses another repository', async () => {
    const ctx = { env: {}, clock: systemClock, logger: silentLogger() };
    const specs = [await s3Site(sharedCeph, 'liba'), await s3Site(owned, 'libb'), await fileSite('libc')];
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
      expect(await attachRepository(first, targets[2]!.site)).toBe('same');
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
      expect(result.outcomes.map((o) => o.state)).toEqual(['committed', 'committed', 'committed']);
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

describe('georep snapshot --to / ship / status', () => {
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
  const restoresIdentically = async (site: string, source: string): Promise<void> => {
    const target = path.join(tmp, `restore-${randomBytes(3).toString('hex')}`);
    await ok(['restore', 'latest', '--to', target, '--site', urls[site]!]);
    expect(await treeBytes(target)).toEqual(await treeBytes(source));
  };

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmp, 'home-'));
    const a = await s3Site(sharedCeph, 'a');
    const b = await s3Site(owned, 'b');
    const c = await fileSite('c');
    env = { ...a.env, ...b.env };
    Object.assign(urls, { a: a.url, b: b.url, c: c.url });
    await ok(['init', '--site', a.url, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
    for (const [name, url] of Object.entries(urls)) {
      await ok(['site', 'add', name, url, '--region', 'test', '--lat', '50', '--lon', '8', '--jurisdiction', 'DE', '--no-probe']);
    }
  });

  it('commits at all three sites, each restores byte-identical on its own', async () => {
    const source = await dataset('cli-data', 8, 30_000);
    const r = await ok(['snapshot', source, '--to', 'a,b,c', '--json']);
    const out = JSON.parse(r.stdout) as { id: string; sites: { site: string; state: string }[]; stagingReleased: boolean };
    expect(out.sites.map((s) => [s.site, s.state])).toEqual([
      ['a', 'committed'],
      ['b', 'committed'],
      ['c', 'committed'],
    ]);
    expect(out.stagingReleased).toBe(true);
    for (const site of ['a', 'b', 'c']) await restoresIdentically(site, source);
    const status = JSON.parse((await ok(['status', '--json'])).stdout) as {
      sites: { site: string; latest: { snapshot: string } | null; behind: unknown[] }[];
    };
    for (const s of status.sites) {
      expect(s.latest?.snapshot).toBe(out.id);
      expect(s.behind).toEqual([]);
    }
  });

  it('a dead gateway is behind (exit 3), the others commit; georep ship brings it level', async () => {
    const source = await dataset('cli-data-2', 6, 30_000);
    await owned.killGateway();
    let id: string;
    try {
      const r = await ok(['snapshot', source, '--to', 'a,b,c'], 3);
      expect(r.stdout).toMatch(/ a\s+committed/);
      expect(r.stdout).toMatch(/ c\s+committed/);
      expect(r.stdout).toMatch(/ b\s+behind: /);
      const status = JSON.parse((await ok(['status', '--json'])).stdout) as {
        sites: { site: string; latest: { snapshot: string } | null; behind: { snapshot: string; state: string }[] }[];
        staging: { pendingSnapshots: string[]; bytes: number }[];
      };
      const b = status.sites.find((s) => s.site === 'b')!;
      expect(b.behind).toHaveLength(1);
      expect(b.behind[0]!.state).toBe('behind');
      id = b.behind[0]!.snapshot;
      expect(status.sites.find((s) => s.site === 'a')!.latest?.snapshot).toBe(id);
      expect(status.staging[0]!.pendingSnapshots).toEqual([id]);
      expect(status.staging[0]!.bytes).toBeGreaterThan(0);
    } finally {
      await owned.restartGateway();
    }
    const shipped = await ok(['ship', '--json']);
    const outcomes = (JSON.parse(shipped.stdout) as { snapshots: { snapshot: string; outcomes: { site: string; state: string; alreadyCommitted: boolean }[] }[] })
      .snapshots;
    expect(outcomes.map((s) => s.snapshot)).toEqual([id]);
    expect(outcomes[0]!.outcomes.map((o) => [o.site, o.state, o.alreadyCommitted])).toEqual([
      ['a', 'committed', true],
      ['b', 'committed', false],
      ['c', 'committed', true],
    ]);
    await restoresIdentically('b', source);
    const status = JSON.parse((await ok(['status', '--json'])).stdout) as {
      sites: { site: string; latest: { snapshot: string } | null; behind: unknown[] }[];
      staging: { pendingSnapshots: string[]; packs: number }[];
    };
    expect(status.sites.find((s) => s.site === 'b')!.latest?.snapshot).toBe(id);
    expect(status.sites.every((s) => s.behind.length === 0)).toBe(true);
    expect(status.staging[0]).toMatchObject({ pendingSnapshots: [], packs: 0 });
    expect((await ok(['ship'])).stdout).toContain('nothing waits in staging');
  });

  it('a site over its quota is behind with a quota error; the others commit', async () => {
    const creds = await owned.createUser({ uid: `quota-${randomBytes(3).toString('hex')}`, quotaBytes: 64 * 1024 });
    const q = await s3Site({ endpoint: owned.endpoint, ...creds }, 'q');
    env = { ...env, ...q.env };
    urls.q = q.url;
    const source = await dataset('cli-data-3', 4, 50_000);
    const r = await ok(['snapshot', source, '--to', `a,c,${q.url}`, '--json'], 3);
    const out = JSON.parse(r.stdout) as { sites: { site: string; state: string; error?: { code: string; message: string } }[] };
    expect(out.sites.map((s) => s.state)).toEqual(['committed', 'committed', 'behind']);
    expect(out.sites[2]!.error?.code).toBe('SITE_QUOTA_EXCEEDED');
    await restoresIdentically('c', source);
  });

  it('refuses to attach a site holding another repository', async () => {
    const d = await fileSite('d');
    await ok(['init', '--site', d.url, ...FAST_KDF]);
    const source = await dataset('cli-data-4', 1, 1000);
    const r = await ok(['snapshot', source, '--to', `a,${d.url}`], 2);
    expect(r.stderr).toMatch(/holds repository [0-9a-f]{64}, not repository [0-9a-f]{64}/);
  });
});
