// An S3 bucket as a dataset source, end to end on a real Ceph RGW gateway: a bucket of 5,000
// objects (mostly tiny, a few of 1 MiB, some with content types and user metadata, some with keys
// that need escaping or clash with a folder) is snapshotted into a repository at another bucket;
// one object changes and the next snapshot reads only that object's body; the snapshot restored
// into a folder shows the keys as files, and restored into a new bucket gives identical keys,
// bytes (ETags, and the bodies of a sample) and headers.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { bucketSite, cephSites, type S3Endpoint } from '../ship/fixtures.ts';

const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const COUNT = 5000;
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
  for (let i = 0; i < COUNT - 12; i++) {
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
  for (const [key, body, extra] of special) objects.push({ Key: key, Body: Buffer.from(body), ...extra });
  // A second, small prefix for the contract (not part of the 5,000).
  for (const name of ['shelters.csv', 'maps/zone-1.geojson', 'maps/zone-2.geojson']) objects.push({ Key: `small/${name}`, Body: Buffer.from(`${name}\n`) });
  return objects;
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
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
    const sidecar = JSON.parse(await readFile(path.join(out, '%georep-s3-objects.json'), 'utf8')) as { objects: { key: string; metadata: Record<string, string> }[] };
    expect(sidecar.objects).toHaveLength(COUNT);
    expect(sidecar.objects.find((o) => o.key === 'data/change-me.txt')?.metadata).toEqual({ v: '2' });
  }, 60_000);

  it('restores into a new bucket with identical keys, bytes and headers', async () => {
    const target = `restored-${suffix}`;
    await client.send(new CreateBucketCommand({ Bucket: target }));
    const t = performance.now();
    await ok(['restore', second, '--to-bucket', bucketUrl(target, 'copy/'), '--site', repoUrl]);
    console.log(`bucket restore: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const [before, after] = await Promise.all([listAll(sourceBucket, 'data/'), listAll(target, 'copy/')]);
    expect(after.size).toBe(COUNT);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    // Single-part ETags are the MD5 of the bytes: equal ETags and sizes are equal bodies.
    for (const [key, o] of before) expect(after.get(key), key).toEqual(o);
    const sample = ['a//b', './x', 'with space/file name.txt', 'dir/', 'clash', 'tiles/0/0/0.png', 'tiles/0/0/1.json.gz', 'report.pdf', 'change-me.txt', 'set7/item-00007.bin'];
    for (const key of sample) {
      expect(await headersOf(target, `copy/${key}`), key).toEqual(await headersOf(sourceBucket, `data/${key}`));
      expect(await bodyHash(target, `copy/${key}`), key).toBe(await bodyHash(sourceBucket, `data/${key}`));
    }
    expect((await headersOf(target, 'copy/tiles/0/0/0.png')).meta).toEqual({ source: 'sentinel-2', 'captured-at': '2026-11-01' });
    expect(await headersOf(target, 'copy/report.pdf')).toMatchObject({ language: undefined, meta: { owner: 'gis team' } });

    // A second restore onto the same prefix is refused: it would mix with what is there.
    const again = await runCli(['restore', second, '--to-bucket', bucketUrl(target, 'copy/'), '--site', repoUrl], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds objects/);
  }, 120_000);
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
