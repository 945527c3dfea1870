// The rules of repair that the damage matrix does not reach:
// - Object Lock on Ceph RGW: a damaged object under retention cannot be deleted, but a plain put
//   makes a new current version: repair heals the copy in place, under the retention the healthy
//   copy has, and the locked versions stay in the bucket's history until their dates pass.
// - config is not content-addressed: repaired only from two other sites holding the same bytes.
// - an object damaged at every site has no healthy copy: reported, exit 1, nothing written.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { listAudit } from '../../catalog/queries/audit.ts';
import { applyFindingChanges, listOpenFindings } from '../../catalog/queries/findings.ts';
import { addSite } from '../../catalog/queries/sites.ts';
import { systemClock } from '../../core/clock.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { S3Site } from '../../sites/s3/s3-site.ts';
import { repairSite } from '../../verifier/repair/repair.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { folderSite } from '../ship/fixtures.ts';

const server = inject('georepCephSites')[0]!;
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const WHERE = ['--region', 'test', '--lat', '50', '--lon', '8', '--jurisdiction', 'DE', '--no-probe'];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-repair-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('repair at an Object Lock site (Ceph RGW)', () => {
  let db: CatalogDb;
  const raw = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  afterAll(async () => {
    await db?.close();
    raw.destroy();
  });

  it('a damaged locked object is healed by a new current version under the healthy copy\'s retention', async () => {
    db = await openCatalog({ home: path.join(tmp, 'lock-home') });
    await migrate(db);
    const lockBucket = async (name: string): Promise<{ site: S3Site; bucket: string }> => {
      const bucket = `v${name}-${randomBytes(4).toString('hex')}`;
      const site = new S3Site(
        { kind: 's3', bucket, prefix: 'site/', endpoint: server.endpoint, region: 'us-east-1', credentials: undefined },
        { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
        {
          name,
          capabilities: { createOnly: false, objectLock: true, checksumTrailers: false, multipart: true, rangedReads: true, listAfterWrite: true },
          timeouts: { connectMs: 2000, requestMs: 10_000 },
        },
      );
      await site.createBucket({ objectLock: true });
      return { site, bucket };
    };
    const { site: locked, bucket } = await lockBucket('locked');
    const { site: healthy } = await lockBucket('healthy');
    try {
      await addSite(db, { name: 'locked', url: `s3://${bucket}/site?endpoint=${server.endpoint}` });
      const bytes = randomBytes(5000);
      const id = sha256Hex(bytes);
      const key = `data/${id.slice(0, 2)}/${id}`;
      const until = new Date(Date.now() + 3600_000);
      await locked.put(key, bytes, { retention: { mode: 'GOVERNANCE', until } });
      await healthy.put(key, bytes, { retention: { mode: 'GOVERNANCE', until } });
      // Damage the current version (what a bad disk or a rogue writer leaves).
      const damaged = Buffer.from(bytes);
      damaged[100]! ^= 1;
      await locked.put(key, damaged, { retention: { mode: 'GOVERNANCE', until } });
      await applyFindingChanges(db, {
        site: 'locked',
        level: 'deep',
        runId: null,
        insert: [{ key, kind: 'corrupt', detail: 'flipped' }],
        touch: [],
        resolve: [],
      });
      // Deleting it is refused: the lock does its job.
      await expect(locked.delete(key)).rejects.toMatchObject({ code: 'SITE_OBJECT_LOCKED' });
      const outcomes = await repairSite({
        db,
        target: { name: 'locked', site: locked, objectLock: true },
        sources: [{ name: 'healthy', site: healthy }],
        findings: await listOpenFindings(db, { site: 'locked' }),
        apply: true,
        actor: 'test@host',
        clock: systemClock,
      });
      expect(outcomes.map((o) => [o.key, o.state])).toEqual([[key, 'repaired']]);
      expect(sha256Hex(await locked.get(key))).toBe(id);
      const head = await locked.head(key);
      expect(head.retention?.mode).toBe('GOVERNANCE');
      expect(head.retention!.until.getTime()).toBeGreaterThanOrEqual(Math.floor(until.getTime() / 1000) * 1000);
      // The history keeps all three versions (the original, the damaged one, the repaired one).
      const versions = await raw.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `site/${key}` }));
      expect(versions.Versions?.length).toBe(3);
      expect(await listOpenFindings(db, { site: 'locked' })).toEqual([]);
      expect((await listAudit(db)).some((e) => e.action === 'repair.object' && e.subject === 'locked')).toBe(true);
    } finally {
      await locked.close();
      await healthy.close();
    }
  });
});

describe('repair of config, and of an object damaged everywhere (three folders)', () => {
  let home: string;
  const urls: Record<string, string> = {};
  const georep = (args: string[]): Promise<CliResult> => runCli(args, { env: { GEOREP_PASSWORD: PASSWORD, GEOREP_HOME: home } });
  const ok = async (args: string[], code = 0): Promise<CliResult> => {
    const r = await georep(args);
    if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
    return r;
  };
  const dirOf = (site: string): string => new URL(urls[site]!).pathname;

  it('config comes back from two agreeing sites; a pack damaged at every site is reported unhealed (exit 1)', async () => {
    home = path.join(tmp, 'rules-home');
    for (const name of ['a', 'b', 'c']) urls[name] = (await folderSite(tmp, `r${name}`)).url;
    await ok(['init', '--site', urls.a!, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
    for (const [name, url] of Object.entries(urls)) await ok(['site', 'add', name, url, ...WHERE]);
    const source = path.join(tmp, 'rules-data');
    await mkdir(source);
    for (let i = 0; i < 4; i++) await writeFile(path.join(source, `f${i}`), randomBytes(30_000));
    await ok(['snapshot', source, '--to', 'a,b,c']);

    const config = path.join(dirOf('c'), 'config');
    const bytes = await readFile(config);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(config, bytes);
    const { stdout: listing } = await ok(['verify', '--level', 'list', '--site', 'a', '--json']);
    expect(JSON.parse(listing)).toMatchObject({ findings: 0 });
    // One pack damaged at every site: no copy anywhere proves itself.
    const hh = (await readdir(path.join(dirOf('a'), 'data')))[0]!;
    const name = (await readdir(path.join(dirOf('a'), 'data', hh)))[0]!;
    const key = `data/${hh}/${name}`;
    for (const site of ['a', 'b', 'c']) {
      const file = path.join(dirOf(site), key);
      const pack = await readFile(file);
      pack[10]! ^= 1;
      await writeFile(file, pack);
    }

    const deep = await ok(['verify', '--level', 'deep'], 1);
    expect(deep.stdout).toMatch(/^c: .*\n(?:.*\n)*? {2}corrupt +config +.*does not authenticate/m);
    for (const site of ['a', 'b', 'c']) expect(deep.stdout).toMatch(new RegExp(`^${site}: (?:.*\\n)*? {2}corrupt +${key} `, 'm'));

    const repair = await ok(['repair'], 1);
    expect(repair.stdout).toMatch(/repaired +config +\(corrupt\) +\d+ bytes from a\+b/);
    expect(repair.stdout).toMatch(new RegExp(`unhealed +${key} +\\(corrupt\\) +no healthy copy: .*damaged too`));
    expect(await readFile(config)).toEqual(await readFile(path.join(dirOf('a'), 'config')));

    const again = JSON.parse((await ok(['verify', '--level', 'deep', '--json'], 1)).stdout) as {
      sites: { site: string; findings: { key: string; kind: string }[] }[];
    };
    for (const s of again.sites) expect(s.findings.map((f) => [f.kind, f.key])).toEqual([['corrupt', key]]);
  }, 120_000);
});

describe('verify --contract', () => {
  it("verifies the sites of the contract's placement and snapshots, not the others", async () => {
    const home = path.join(tmp, 'contract-home');
    const env = { GEOREP_HOME: home, GEOREP_PASSWORD: PASSWORD };
    const ok = async (args: string[], code = 0): Promise<CliResult> => {
      const r = await runCli(args, { env });
      if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
      return r;
    };
    const urls: Record<string, string> = {};
    for (const [name, lat, lon, region] of [
      ['chengdu-a', '30.66', '104.07', 'sichuan'],
      ['xian-c', '34.34', '108.94', 'shaanxi'],
      ['other', '31.23', '121.47', 'shanghai'],
    ] as const) {
      urls[name] = (await folderSite(tmp, name)).url;
      await ok(['site', 'add', name, urls[name]!, '--region', region, '--lat', lat, '--lon', lon, '--jurisdiction', 'CN', '--no-probe']);
    }
    await ok(['init', '--site', urls['chengdu-a']!, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
    const source = path.join(tmp, 'shelters');
    await mkdir(source);
    await writeFile(path.join(source, 'registry.csv'), 'shelter,beds\nschool,100\n');
    const file = path.join(tmp, 'shelters.yaml');
    await writeFile(
      file,
      [
        'contract: shelters',
        `dataset: { name: shelters, source: { type: directory, path: ${source} } }`,
        'schedule: "0 * * * *"',
        'rpo: 2h',
        'copies: 2',
        'placement: { sites: [chengdu-a, xian-c], minRegions: 2, minDistanceKm: 300, jurisdictions: [CN] }',
        'retention: { last: 1 }',
        '',
      ].join('\n'),
    );
    await ok(['policy', 'apply', file]);
    await ok(['snapshot', '--contract', 'shelters']);
    await ok(['snapshot', source, '--to', 'chengdu-a,other']);
    const r = JSON.parse((await ok(['verify', '--contract', 'shelters', '--level', 'deep', '--json'])).stdout) as {
      findings: number;
      sites: { site: string }[];
    };
    expect(r.sites.map((s) => s.site).sort()).toEqual(['chengdu-a', 'xian-c']);
    expect(r.findings).toBe(0);
    expect((await ok(['verify', '--contract', 'nope'], 2)).stderr).toContain("no contract named 'nope'");
  }, 60_000);
});
