// An S3 bucket as a dataset source, end to end on a real Ceph RGW gateway: a bucket of 5,000
// objects (mostly tiny, a few of 1 MiB, some with content types and user metadata, some with keys
// that need escaping or clash with a folder) is snapshotted into a repository at another bucket;
// one object changes and the next snapshot reads only that object's body; the snapshot restored
// into a folder shows the keys as files, and restored into a new bucket gives identical keys,
// bytes (ETags, and the bodies of a sample) and headers, a 12 MiB object going as a multipart
// upload under a lowered threshold. A contract on a bucket is drilled from a Ceph site: it passes,
// and a flipped byte in a pack there fails the drill naming the object.
import { createHash, randomBytes } from 'node:crypto';
import { readFile as readFileRaw } from 'node:fs/promises';
import { mkdir, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSite, openSourceBucket } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { eachLimited } from '../../core/each-limited.ts';
import { silentLogger } from '../../core/log.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import { checkRestoredBucket } from '../../verifier/drill/check-bucket.ts';
import { checkRestoredTree } from '../../verifier/drill/check-tree.ts';
import { removeSandbox } from '../../verifier/drill/sandbox.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { bucketSite, cephSites, type S3Endpoint } from '../ship/fixtures.ts';

const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const COUNT = 5000;
/** Over the lowered multipart threshold of the bucket restore (6 MiB, parts of 5 MiB): three parts. */
const LARGE = 12 * 1024 * 1024 + 7;
const LARGE_KEY = 'large/scene.tif';
let largeBody: Buffer;
type Put = Omit<PutObjectCommandInput, 'Bucket'>;
let tmp: string;
let env: Record<string, string>;
let server: S3Endpoint;
let client: S3Client;
let repoUrl: string;
let sourceBucket: string;
const suffix = randomBytes(3).toString('hex');

const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await runCli(args, { env });
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};

const bucketUrl = (bucket: string, prefix: string): string =>
  `s3://${bucket}/${prefix}?endpoint=${server.endpoint}&credentials=env:BUCKETS`;

/** The source's objects: key → what to put. */
function fixture(): Put[] {
  const objects: Put[] = [];
  largeBody = randomBytes(LARGE);
  for (let i = 0; i < COUNT - 13; i++) {
    const big = i % 1000 === 7; // 5 objects of 1 MiB
    const body = big ? randomBytes(1024 * 1024) : Buffer.from(`object ${i} ${'x'.repeat(i % 300)}`);
    objects.push({ Key: `data/set${i % 20}/item-${String(i).padStart(5, '0')}.bin`, Body: body });
  }
  const special: [string, string, Partial<Put>][] = [
    ['data/a//b', 'double slash', {}],
    ['data/./x', 'dot segment', {}],
    ['data/../up', 'dot-dot segment', {}],
    ['data/with space/file name.txt', 'spaces', { ContentType: 'text/plain; charset=utf-8' }],
    ['data/dir/', '', {}],
    ['data/clash', 'a file that is also a folder', {}],
    ['data/clash/inner', 'inside the folder', {}],
    ['data/100%.txt', 'percent', {}],
    ['data/tiles/0/0/0.png', 'png', { ContentType: 'image/png', CacheControl: 'max-age=3600', Metadata: { source: 'sentinel-2', 'captured-at': '2026-11-01' } }],
    ['data/tiles/0/0/1.json.gz', 'gz', { ContentType: 'application/json', ContentEncoding: 'gzip', ContentDisposition: 'attachment', Metadata: { layer: 'flood' } }],
    ['data/report.pdf', 'pdf', { ContentType: 'application/pdf', ContentLanguage: 'fr', Metadata: { owner: 'ops team' } }],
    ['data/change-me.txt', 'version one', { Metadata: { v: '1' } }],
  ];
  objects.push({ Key: `data/${LARGE_KEY}`, Body: largeBody, ContentType: 'image/tiff', Metadata: { band: 'B04' } });
  for (const [key, body, extra] of special) objects.push({ Key: key, Body: Buffer.from(body), ...extra });
  // A second, small prefix for the contract (not part of the 5,000).
  for (const name of ['shelters.csv', 'maps/zone-1.geojson', 'maps/zone-2.geojson']) objects.push({ Key: `small/${name}`, Body: Buffer.from(`${name}\n`) });
  // The drilled contract's prefix: a folder clash, headers, a body of several chunks.
  objects.push(
    { Key: 'drill/registry.csv', Body: Buffer.from('shelter,beds\nschool,120\n'), ContentType: 'text/csv' },
    { Key: 'drill/maps', Body: Buffer.from('the maps index'), Metadata: { kind: 'index' } },
    { Key: 'drill/maps/zone.geojson', Body: Buffer.from('{"type":"FeatureCollection"}'), ContentType: 'application/geo+json', Metadata: { zone: '1' } },
    { Key: 'drill/tiles/a.png', Body: randomBytes(200_000), ContentType: 'image/png', CacheControl: 'max-age=60', Metadata: { source: 'sentinel-2' } },
    { Key: 'drill/big.bin', Body: randomBytes(3 * 1024 * 1024) },
  );
  return objects;
}

async function listAll(bucket: string, prefix: string): Promise<Map<string, { size: number; etag: string }>> {
  const out = new Map<string, { size: number; etag: string }>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!.slice(prefix.length), { size: o.Size!, etag: o.ETag! });
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

async function headersOf(bucket: string, key: string): Promise<Record<string, unknown>> {
  const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { type: h.ContentType, encoding: h.ContentEncoding, disposition: h.ContentDisposition, language: h.ContentLanguage, cache: h.CacheControl, meta: h.Metadata };
}

async function bodyHash(bucket: string, key: string): Promise<string> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return createHash('sha256').update(await r.Body!.transformToByteArray()).digest('hex');
}

function runSummary(r: CliResult): { objects: number; read: number; reused: number; heads: number; gets: number } {
  const line = r.logs.split('\n').find((l) => l.includes('"bucket snapshotted"'));
  if (line === undefined) throw new Error(`no run summary in the logs:\n${r.logs.slice(0, 2000)}`);
  return JSON.parse(line) as { objects: number; read: number; reused: number; heads: number; gets: number };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-s3-source-'));
  server = cephSites(1)[0]!;
  client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  sourceBucket = `src-${suffix}`;
  await client.send(new CreateBucketCommand({ Bucket: sourceBucket }));
  const started = performance.now();
  await eachLimited(fixture(), 32, async (o) => {
    await client.send(new PutObjectCommand({ ...o, Bucket: sourceBucket }));
  });
  console.log(`put ${COUNT} objects in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const repo = await bucketSite(server, 's3src');
  repoUrl = repo.url;
  env = {
    GEOREP_HOME: path.join(tmp, 'home'),
    GEOREP_PASSWORD: `repo-${randomBytes(6).toString('hex')}`,
    BUCKETS_ACCESS_KEY_ID: server.accessKeyId,
    BUCKETS_SECRET_ACCESS_KEY: server.secretAccessKey,
    ...repo.env,
  };
  await ok(['init', '--site', repoUrl, ...FAST_KDF]);
}, 240_000);

afterAll(async () => {
  client?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('an S3 bucket as a dataset source', () => {
  let second: string;

  it('snapshots the bucket, then reads only the one changed object the next time', async () => {
    const source = bucketUrl(sourceBucket, 'data/');
    let t = performance.now();
    const r1 = await ok(['snapshot', '--s3-source', source, '--site', repoUrl, '--json']);
    console.log(`first snapshot: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const first = JSON.parse(r1.stdout) as { id: string; snapshot: { source: unknown; paths: string[]; parent: string | null; summary: { files: number } } };
    expect(first.snapshot.source).toEqual({ type: 's3', bucket: sourceBucket, prefix: 'data/' });
    expect(first.snapshot.paths).toEqual([`s3://${sourceBucket}/data/`]);
    expect(first.snapshot.summary.files).toBe(COUNT + 1); // the objects and the sidecar
    expect(runSummary(r1)).toMatchObject({ objects: COUNT, read: COUNT, reused: 0, gets: COUNT });
    expect(r1.stdout + r1.stderr + r1.logs).not.toContain(server.secretAccessKey);

    await client.send(new PutObjectCommand({ Bucket: sourceBucket, Key: 'data/change-me.txt', Body: Buffer.from('version two, longer'), Metadata: { v: '2' } }));
    // New headers, same bytes: a copy onto itself keeps the ETag, changes LastModified; only a HEAD is due.
    await client.send(
      new CopyObjectCommand({
        Bucket: sourceBucket,
        Key: 'data/report.pdf',
        CopySource: `${sourceBucket}/data/report.pdf`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/pdf',
        Metadata: { owner: 'gis team' },
      }),
    );
    t = performance.now();
    const r2 = await ok(['snapshot', '--s3-source', source, '--site', repoUrl, '--json']);
    console.log(`second snapshot: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const snap2 = JSON.parse(r2.stdout) as { id: string; snapshot: { parent: string | null } };
    expect(snap2.snapshot.parent).toBe(first.id);
    expect(runSummary(r2)).toMatchObject({ objects: COUNT, read: 1, reused: COUNT - 1, heads: 1, gets: 1 });
    second = snap2.id;
  }, 120_000);

  it('restores into a folder: keys as escaped paths, the sidecar at the root', async () => {
    const out = path.join(tmp, 'folder');
    await ok(['restore', second, '--to', out, '--site', repoUrl]);
    expect(await readFile(path.join(out, 'change-me.txt'), 'utf8')).toBe('version two, longer');
    expect(await readFile(path.join(out, 'a', '%', 'b'), 'utf8')).toBe('double slash');
    expect(await readFile(path.join(out, '%2E', 'x'), 'utf8')).toBe('dot segment');
    expect(await readFile(path.join(out, '%2E%2E', 'up'), 'utf8')).toBe('dot-dot segment');
    expect(await readFile(path.join(out, 'with space', 'file name.txt'), 'utf8')).toBe('spaces');
    expect(await readFile(path.join(out, 'dir', '%'), 'utf8')).toBe('');
    expect(await readFile(path.join(out, 'clash%'), 'utf8')).toBe('a file that is also a folder');
    expect(await readFile(path.join(out, 'clash', 'inner'), 'utf8')).toBe('inside the folder');
    expect(await readFile(path.join(out, '100%25.txt'), 'utf8')).toBe('percent');
    expect((await readFileRaw(path.join(out, 'large', 'scene.tif'))).equals(largeBody)).toBe(true);
    // The object list: a header line, then one object per line in key order.
    const lines = (await readFile(path.join(out, '%georep-s3-objects.jsonl'), 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({ version: 2, bucket: sourceBucket, prefix: 'data/' });
    const objects = lines.slice(1).map((l) => JSON.parse(l) as { key: string; path: string; metadata: Record<string, string> });
    expect(objects).toHaveLength(COUNT);
    expect(objects.map((o) => o.key)).toEqual(objects.map((o) => o.key).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(objects.find((o) => o.key === 'data/change-me.txt')?.metadata).toEqual({ v: '2' });
    expect(objects.find((o) => o.key === 'data/clash')?.path).toBe('clash%');
  }, 60_000);

  it('restores into a new bucket with identical keys, bytes and headers', async () => {
    const target = `restored-${suffix}`;
    await client.send(new CreateBucketCommand({ Bucket: target }));
    const t = performance.now();
    const restored = await ok(['restore', second, '--to-bucket', bucketUrl(target, 'copy/'), '--site', repoUrl, '--multipart-threshold', '6MiB', '--part-size', '5MiB', '--json']);
    expect(JSON.parse(restored.stdout)).toMatchObject({ objects: COUNT, multipart: 1 });
    console.log(`bucket restore: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const [before, after] = await Promise.all([listAll(sourceBucket, 'data/'), listAll(target, 'copy/')]);
    expect(after.size).toBe(COUNT);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    // Single-part ETags are the MD5 of the bytes: equal ETags and sizes are equal bodies.
    for (const [key, o] of before) if (key !== LARGE_KEY) expect(after.get(key), key).toEqual(o);
    // The object over the threshold went in three parts of 5, 5 and 2 MiB (and 7 bytes): its ETag
    // is S3's multipart one, the MD5 of the parts' MD5s, so not the source's; bytes and headers are.
    const md5 = (b: Buffer): Buffer => createHash('md5').update(b).digest();
    const MiB5 = 5 * 1024 * 1024;
    const parts = [largeBody.subarray(0, MiB5), largeBody.subarray(MiB5, 2 * MiB5), largeBody.subarray(2 * MiB5)];
    expect(after.get(LARGE_KEY)).toEqual({ size: LARGE, etag: `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-3"` });
    expect(before.get(LARGE_KEY)).toEqual({ size: LARGE, etag: `"${md5(largeBody).toString('hex')}"` });
    const sample = [LARGE_KEY, 'a//b', './x', 'with space/file name.txt', 'dir/', 'clash', 'tiles/0/0/0.png', 'tiles/0/0/1.json.gz', 'report.pdf', 'change-me.txt', 'set7/item-00007.bin'];
    for (const key of sample) {
      expect(await headersOf(target, `copy/${key}`), key).toEqual(await headersOf(sourceBucket, `data/${key}`));
      expect(await bodyHash(target, `copy/${key}`), key).toBe(await bodyHash(sourceBucket, `data/${key}`));
    }
    expect((await headersOf(target, 'copy/tiles/0/0/0.png')).meta).toEqual({ source: 'sentinel-2', 'captured-at': '2026-11-01' });
    expect(await headersOf(target, `copy/${LARGE_KEY}`)).toMatchObject({ type: 'image/tiff', meta: { band: 'B04' } });
    expect(await headersOf(target, 'copy/report.pdf')).toMatchObject({ language: undefined, meta: { owner: 'gis team' } });

    // A second restore onto the same prefix is refused: it would mix with what is there.
    const again = await runCli(['restore', second, '--to-bucket', bucketUrl(target, 'copy/'), '--site', repoUrl], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds objects/);
  }, 120_000);
});

describe('multipart uploads', () => {
  it('abort a broken upload: no object and no parts are left behind', async () => {
    const target = `mp-${suffix}`;
    await client.send(new CreateBucketCommand({ Bucket: target }));
    const { bucket } = await openSourceBucket(bucketUrl(target, ''), { env, clock: systemClock, logger: silentLogger() });
    const MiB = 1024 * 1024;
    try {
      async function* breaks(): AsyncGenerator<Buffer> {
        yield randomBytes(6 * MiB); // one part sent, a second begun
        throw new Error('the repository site went away');
      }
      await expect(bucket.putMultipart('broken.bin', breaks(), 12 * MiB, { metadata: {} }, 5 * MiB)).rejects.toThrow(/went away/);
      async function* short(): AsyncGenerator<Buffer> {
        yield randomBytes(11 * MiB);
      }
      await expect(bucket.putMultipart('short.bin', short(), 12 * MiB, { metadata: {} }, 5 * MiB)).rejects.toThrow(/11534336 bytes arrived for a 12582912-byte object/);
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: target }));
      expect(uploads.Uploads ?? []).toEqual([]);
      expect((await listAll(target, '')).size).toBe(0);
    } finally {
      bucket.close();
    }
  }, 60_000);
});

describe('a contract whose dataset is a bucket', () => {
  it('is snapshotted by the contract to the sites its placement chooses', async () => {
    const sites = ['fa', 'fb'].map((name) => ({ name, dir: path.join(tmp, `contract-${name}`) }));
    for (const site of sites) {
      await mkdir(site.dir);
      await ok(['site', 'add', site.name, `file://${site.dir}`, '--region', 'r', '--lat', '1', '--lon', '2', '--jurisdiction', 'DE', '--no-probe']);
    }
    await ok(['init', '--site', `file://${sites[0]!.dir}`, ...FAST_KDF]);
    const contractFile = path.join(tmp, 'imagery.yaml');
    await writeFile(
      contractFile,
      [
        'contract: imagery',
        `dataset: { name: imagery, source: { type: s3, bucket: ${sourceBucket}, prefix: small/, endpoint: "${server.endpoint}", credentials: "env:BUCKETS" } }`,
        'schedule: "0 * * * *"',
        'rpo: 2h',
        'copies: 2',
        'placement: { sites: [fa, fb] }',
        'retention: { last: 2 }',
        '',
      ].join('\n'),
    );
    await ok(['policy', 'apply', contractFile]);
    const r = await ok(['snapshot', '--contract', 'imagery', '--json']);
    const result = JSON.parse(r.stdout) as { id: string; snapshot: { source: unknown; summary: { files: number } }; sites: { state: string }[] };
    expect(result.snapshot.source).toEqual({ type: 's3', bucket: sourceBucket, prefix: 'small/' });
    expect(result.snapshot.summary.files).toBe(4);
    expect(result.sites.map((s) => s.state)).toEqual(['committed', 'committed']);
    const out = path.join(tmp, 'contract-restore');
    await ok(['restore', result.id, '--to', out, '--site', `file://${sites[1]!.dir}`]);
    expect(await readFile(path.join(out, 'maps', 'zone-2.geojson'), 'utf8')).toBe('maps/zone-2.geojson\n');
  }, 60_000);
});

describe('a drill of a contract whose dataset is a bucket', () => {
  interface Drilled {
    outcome: string;
    site: string;
    files: number | null;
    bytes: number | null;
    totalMs: number | null;
    failures: { kind: string; path?: string; message: string }[];
    sandbox: string | null;
  }
  const drill = async (code: number, ...extra: string[]): Promise<Drilled> => {
    const r = await ok(['drill', '--contract', 'tiles', '--site', 'ceph', '--json', ...extra], code);
    const out = JSON.parse(r.stdout) as { drills: Drilled[] };
    expect(out.drills).toHaveLength(1);
    return out.drills[0]!;
  };
  let siteUrl: string;
  let snapshot: string;

  beforeAll(async () => {
    const site = await bucketSite(server, 's3drill');
    siteUrl = site.url;
    Object.assign(env, site.env);
    await ok(['site', 'add', 'ceph', siteUrl, '--region', 'r', '--lat', '1', '--lon', '2', '--jurisdiction', 'DE', '--no-probe']);
    await ok(['init', '--site', siteUrl, ...FAST_KDF]);
    const contractFile = path.join(tmp, 'tiles.yaml');
    await writeFile(
      contractFile,
      [
        'contract: tiles',
        `dataset: { name: tiles, source: { type: s3, bucket: ${sourceBucket}, prefix: drill/, endpoint: "${server.endpoint}", credentials: "env:BUCKETS" } }`,
        'schedule: "0 * * * *"',
        'rpo: 2h',
        'rto: 1h',
        'copies: 1',
        'placement: { sites: [ceph] }',
        'retention: { last: 2 }',
        '',
      ].join('\n'),
    );
    await ok(['policy', 'apply', contractFile]);
    snapshot = (JSON.parse((await ok(['snapshot', '--contract', 'tiles', '--json'])).stdout) as { id: string }).id;
  }, 60_000);

  it('restores the objects from the Ceph site into a sandbox and proves bytes, keys, sizes and headers', async () => {
    const d = await drill(0);
    expect(d).toMatchObject({ outcome: 'passed', site: 'ceph', failures: [], files: 5 });
    expect(d.bytes).toBe(24 + 14 + 28 + 200_000 + 3 * 1024 * 1024);
    expect(d.totalMs).toBeGreaterThan(0);
    const text = await ok(['drill', '--contract', 'tiles', '--site', 'ceph']);
    expect(text.stdout).toMatch(/^drill passed: tiles at ceph, .*: 5 objects, /m);
  }, 60_000);

  it('fails, naming the object, when a byte of its data is flipped at the site', async () => {
    const site = await openSite(siteUrl, { env, clock: systemClock, logger: silentLogger() });
    try {
      const repo = await Repository.open(site, env.GEOREP_PASSWORD!, { clock: systemClock });
      const { index } = await loadMasterIndex(repo);
      const reader = new BlobReader(repo, index);
      const root = await reader.readTree(validateSnapshot(await repo.loadObject('snapshot', snapshot), 'manifest').tree);
      const tiles = root.nodes.find((n) => n.name.toString() === 'tiles')!;
      const png = (await reader.readTree(tiles.subtree!)).nodes.find((n) => n.name.toString() === 'a.png')!;
      const location = index.lookup(png.content![0]!)!;
      const key = repo.packObjectName(location.pack);
      const original = await site.get(key);
      const damaged = Buffer.from(original);
      damaged[location.entry.offset + 20]! ^= 0x01;
      await site.put(key, damaged);
      try {
        const d = await drill(1);
        expect(d.outcome).toBe('failed');
        expect(d.failures).toHaveLength(1);
        expect(d.failures[0]).toMatchObject({ kind: 'restore', path: 'tiles/a.png' });
        expect(d.failures[0]!.message).toMatch(/^object "drill\/tiles\/a.png": .*does not authenticate/);
        expect(d.files).toBe(4);
      } finally {
        await site.put(key, original);
      }
      expect((await drill(0)).outcome).toBe('passed');
    } finally {
      await site.close();
    }
  }, 60_000);

  it('the object check names the object whose file is wrong, and catches a list that disagrees with the tree', async () => {
    const { sandbox } = await drill(0, '--keep');
    expect(sandbox).not.toBeNull();
    const site = await openSite(siteUrl, { env, clock: systemClock, logger: silentLogger() });
    try {
      const repo = await Repository.open(site, env.GEOREP_PASSWORD!, { clock: systemClock });
      const { index } = await loadMasterIndex(repo);
      const reader = new BlobReader(repo, index);
      const tree = validateSnapshot(await repo.loadObject('snapshot', snapshot), 'manifest').tree;
      const check = async (): Promise<Record<string, string>> => {
        const checked = await checkRestoredTree({ reader, index, key: repo.key, tree, root: sandbox! });
        const bucket = await checkRestoredBucket({ reader, tree, root: sandbox!, failures: checked.failures });
        return Object.fromEntries([...checked.failures, ...bucket.failures].map((f) => [f.path ?? '', f.message]));
      };
      expect(await check()).toEqual({});
      await truncate(path.join(sandbox!, 'big.bin'), 10);
      await unlink(path.join(sandbox!, 'maps%'));
      const found = await check();
      expect(found['big.bin']).toMatch(/^object "drill\/big.bin": is 10 bytes, the snapshot has 3145728/);
      expect(found['maps%']).toMatch(/^object "drill\/maps": the snapshot's file is missing/);
      expect(Object.keys(found)).toHaveLength(2);

      // A list whose records disagree with the tree (the tree check would flag the list's own
      // bytes first; here the object check alone is shown to catch it).
      const listFile = path.join(sandbox!, '%georep-s3-objects.jsonl');
      const lines = (await readFile(listFile, 'utf8')).split('\n');
      const edit = (key: string, change: Record<string, unknown>): void => {
        const at = lines.findIndex((l) => l.includes(`"key":${JSON.stringify(key)}`));
        lines[at] = JSON.stringify({ ...(JSON.parse(lines[at]!) as object), ...change });
      };
      edit('drill/registry.csv', { size: 99 });
      edit('drill/maps/zone.geojson', { path: 'maps/other.geojson' });
      await writeFile(listFile, lines.join('\n'));
      const bucket = await checkRestoredBucket({ reader, tree, root: sandbox!, failures: [] });
      const messages = bucket.failures.map((f) => f.message);
      expect(messages).toContainEqual(expect.stringMatching(/^object "drill\/registry.csv": is recorded as 99 bytes, its file registry.csv has 24$/));
      expect(messages).toContainEqual(expect.stringMatching(/^object "drill\/maps\/zone.geojson": is recorded at "maps\/other.geojson", its key belongs at "maps\/zone.geojson"$/));
    } finally {
      await site.close();
      await removeSandbox(sandbox!);
    }
  }, 60_000);
});
