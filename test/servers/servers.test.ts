// The real-server fixtures themselves: the servers test/setup/global.ts started answer, hold data,
// and the fault controls (pause, kill, quota) do what the other suites rely on. Pausing and
// killing act on a site this file starts for itself: the run's shared sites serve the files that
// run beside this one.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cephSiteControl, startCephSite, type CephSite, type S3Credentials } from './ceph.ts';
import { createDatabase } from './postgres.ts';

interface Endpoint extends S3Credentials {
  endpoint: string;
  region: string;
}

/** Ceph 16 refuses the SDK's default aws-chunked checksum trailers, hence WHEN_REQUIRED. */
function s3(
  site: Endpoint,
  options: { creds?: S3Credentials; requestTimeoutMs?: number } = {},
): S3Client {
  const { accessKeyId, secretAccessKey } = options.creds ?? site;
  return new S3Client({
    endpoint: site.endpoint,
    region: site.region,
    credentials: { accessKeyId, secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A hung gateway never answers: without a throwing timeout the request waits forever.
    ...(options.requestTimeoutMs === undefined
      ? {}
      : {
          maxAttempts: 1,
          requestHandler: new NodeHttpHandler({
            requestTimeout: options.requestTimeoutMs,
            throwOnRequestTimeout: true,
          }),
        }),
  });
}

const bucketName = (): string => `servers-test-${randomBytes(6).toString('hex')}`;

async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function roundTrip(site: Endpoint): Promise<void> {
  const client = s3(site);
  const bucket = bucketName();
  const body = randomBytes(256 * 1024);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.bin', Body: body }));
  expect((await getBytes(client, bucket, 'a/b.bin')).equals(body)).toBe(true);
  client.destroy();
}

describe('PostgreSQL fixture', () => {
  it('runs queries in a fresh database', async () => {
    const url = await createDatabase(
      inject('georepPostgresUrl'),
      `servers_test_${randomBytes(4).toString('hex')}`,
    );
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const version = await client.query<{ version: string }>('select version()');
      expect(version.rows[0]?.version).toMatch(/^PostgreSQL \d+/);
      await client.query('create table t (id int primary key, note text not null)');
      await client.query('insert into t values ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
      const rows = await client.query<{ id: number; note: string }>(
        'select id, note from t order by id',
      );
      expect(rows.rows).toEqual([
        { id: 1, note: 'one' },
        { id: 2, note: 'two' },
      ]);
    } finally {
      await client.end();
    }
  });
});

const sites = inject('georepCephSites');
const [site] = sites;

// No site only when GEOREP_TEST_CEPH_SITES=0 was asked for (the setup then demands an external S3).
describe.runIf(site)('Ceph RGW fixture', () => {
  // Vitest runs this callback for a skipped suite too: nothing here may touch the site yet.
  const control = cephSiteControl(site?.dir ?? '');
  let owned: CephSite;
  beforeAll(async () => {
    owned = await startCephSite();
  });
  afterAll(async () => {
    await owned?.stop();
  });

  it('stores and returns the same bytes on every site', async () => {
    await Promise.all(sites.map(roundTrip));
  });

  it('a paused gateway times out, and answers again after resume', async () => {
    const client = s3(owned, { requestTimeoutMs: 2_000 });
    const bucket = bucketName();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'before' }));
    await owned.pause();
    try {
      const started = performance.now();
      await expect(getBytes(client, bucket, 'k')).rejects.toThrow(/timeout|timed out/i);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await owned.resume();
    }
    expect((await getBytes(client, bucket, 'k')).toString()).toBe('before');
    client.destroy();
  });

  it('a killed gateway refuses connections; a restarted one still has the data', async () => {
    const client = s3(owned, { requestTimeoutMs: 5_000 });
    const bucket = bucketName();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'kept' }));
    await owned.killGateway();
    try {
      await expect(getBytes(client, bucket, 'k')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await owned.restartGateway();
    }
    expect((await getBytes(client, bucket, 'k')).toString()).toBe('kept');
    client.destroy();
  });

  it('a user over its quota gets 403 QuotaExceeded (a full site)', async () => {
    const creds = await control.createUser({
      uid: `quota-${randomBytes(4).toString('hex')}`,
      quotaBytes: 1024 * 1024,
    });
    const client = s3(site!, { creds });
    const bucket = bucketName();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'first', Body: randomBytes(600 * 1024) }),
    );
    const refused = await client
      .send(new PutObjectCommand({ Bucket: bucket, Key: 'second', Body: randomBytes(600 * 1024) }))
      .then(
        () => undefined,
        (err: S3ServiceException) => err,
      );
    expect(refused?.name).toBe('QuotaExceeded');
    expect(refused?.$metadata.httpStatusCode).toBe(403);
    client.destroy();
  });
});

const external = inject('georepExternalS3');

describe.runIf(external)('external S3 endpoint (GEOREP_TEST_S3_ENDPOINT)', () => {
  it('stores and returns the same bytes', async () => {
    await roundTrip(external!);
  });
});
