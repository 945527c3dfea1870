// A flat bucket prefix too wide for one tree blob, on a real Ceph RGW source: the folder is stored
// as pages (the tree blob bound lowered to 16 KiB so that 2,500 objects make dozens of pages),
// the next snapshot reuses the parent's objects through the paged tree and stores only the pages
// that changed, and a restore into a new bucket gives back every key and body.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSourceBucket } from '../../cli/wiring.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, SnapshotManifest } from '../../repository/types.ts';
import { snapshotS3 } from '../../replicator/sources/s3/snapshot-s3.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { runCli } from '../cli/run-cli.ts';
import { cephSites, type S3Endpoint } from '../ship/fixtures.ts';

const COUNT = 2500;
const PAGES = { maxBlobBytes: 16 * 1024, cutBits: 6 };
const PASSWORD = `wide-${randomBytes(6).toString('hex')}`;
const suffix = randomBytes(3).toString('hex');
let tmp: string;
let server: S3Endpoint;
let client: S3Client;
const source = `wide-src-${suffix}`;
const target = `wide-dst-${suffix}`;

const bucketUrl = (bucket: string, prefix: string): string => `s3://${bucket}/${prefix}?endpoint=${server.endpoint}&credentials=env:BUCKETS`;
const env = (): Record<string, string> => ({
  GEOREP_HOME: path.join(tmp, 'home'),
  GEOREP_PASSWORD: PASSWORD,
  BUCKETS_ACCESS_KEY_ID: server.accessKeyId,
  BUCKETS_SECRET_ACCESS_KEY: server.secretAccessKey,
});
const key = (i: number): string => `feed/r-${String(i).padStart(5, '0')}.json`;

async function listAll(bucket: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!.slice(prefix.length), o.ETag!);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

async function snapshot(parent: { id: Hex64; manifest: SnapshotManifest } | null): Promise<Awaited<ReturnType<typeof snapshotS3>>> {
  const repo = await Repository.open(new FileSite(path.join(tmp, 'site')), PASSWORD, { clock: systemClock });
  const { index } = await loadMasterIndex(repo);
  const { bucket } = await openSourceBucket(bucketUrl(source, 'feed/'), { env: env(), clock: systemClock, logger: silentLogger() });
  return snapshotS3({ repo, index, clock: systemClock, bucket, prefix: 'feed/', host: 't', user: 't', program: 'georep test', parent, treePages: PAGES });
}

async function rootTree(root: Hex64): Promise<{ nodes: number; pages: Hex64[] }> {
  const repo = await Repository.open(new FileSite(path.join(tmp, 'site')), PASSWORD, { clock: systemClock });
  const { index } = await loadMasterIndex(repo);
  const tree = await new BlobReader(repo, index).readTree(root);
  return { nodes: tree.nodes.length, pages: tree.pages ?? [] };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-s3-wide-'));
  server = cephSites(1)[0]!;
  client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: source }));
  await client.send(new CreateBucketCommand({ Bucket: target }));
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < COUNT) {
      const i = next++;
      await client.send(new PutObjectCommand({ Bucket: source, Key: key(i), Body: Buffer.from(`{"reading":${i}}`) }));
    }
  }));
  await mkdir(path.join(tmp, 'site'));
  await Repository.init(new FileSite(path.join(tmp, 'site')), PASSWORD, { kdf: MIN_KDF, clock: systemClock, host: 't', user: 't' });
}, 180_000);

afterAll(async () => {
  client?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a bucket folder wider than one tree blob', () => {
  it('is stored as pages, reused page by page by the next snapshot, and restored into a bucket whole', async () => {
    const first = await snapshot(null);
    expect(first.objects).toBe(COUNT);
    const tree1 = await rootTree(first.manifest.tree);
    expect(tree1.nodes).toBe(COUNT + 1); // the objects and the sidecar
    expect(tree1.pages.length).toBeGreaterThan(20);

    await client.send(new PutObjectCommand({ Bucket: source, Key: key(1234), Body: Buffer.from('changed') }));
    const second = await snapshot({ id: first.id, manifest: first.manifest });
    expect(second.read).toBe(1);
    expect(second.reused).toBe(COUNT - 1);
    const tree2 = await rootTree(second.manifest.tree);
    // The changed object's page and the sidecar's (the last) are new; the rest are the parent's.
    const fresh = tree2.pages.filter((p) => !tree1.pages.includes(p));
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(fresh.length).toBeLessThanOrEqual(3);

    const r = await runCli(['restore', second.id, '--to-bucket', bucketUrl(target, 'copy/'), '--site', `file://${path.join(tmp, 'site')}`], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const want = await listAll(source, 'feed/');
    const got = await listAll(target, 'copy/');
    expect(got.size).toBe(COUNT);
    expect([...got]).toEqual([...want]);
    const body = await client.send(new GetObjectCommand({ Bucket: target, Key: `copy/${key(1234).slice('feed/'.length)}` }));
    expect(await body.Body!.transformToString()).toBe('changed');
  }, 120_000);
});
