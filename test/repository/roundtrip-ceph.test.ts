// The snapshot/restore suite against a real Ceph RGW site; objects are damaged with the S3 SDK.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, inject } from 'vitest';
import type { RawSite, TestSite } from './harness.ts';
import { defineRoundTripSuite } from './roundtrip-suite.ts';

const ceph = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server = ceph;

const admin = new S3Client({
  region: server.region,
  endpoint: server.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  // Ceph 16 refuses the SDK's aws-chunked CRC trailers.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
afterAll(() => admin.destroy());

function rawBucket(bucket: string, prefix: string): RawSite {
  return {
    async list(sub) {
      const out: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await admin.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${sub}`, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) out.push({ key: (o.Key ?? '').slice(prefix.length), size: o.Size ?? 0 });
        token = page.NextContinuationToken;
      } while (token !== undefined);
      return out;
    },
    async get(key) {
      const got = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
      return Buffer.from(await got.Body!.transformToByteArray());
    },
    async put(key, bytes) {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: bytes }));
    },
  };
}

defineRoundTripSuite('ceph', async (): Promise<TestSite> => {
  // A bucket per repository: `georep init` creates it.
  const bucket = `georep-rt-${randomBytes(5).toString('hex')}`;
  const name = `RT${randomBytes(3).toString('hex').toUpperCase()}`;
  return {
    url: `s3://${bucket}/repo?endpoint=${server.endpoint}&credentials=env:${name}`,
    env: { [`${name}_ACCESS_KEY_ID`]: server.accessKeyId, [`${name}_SECRET_ACCESS_KEY`]: server.secretAccessKey },
    raw: rawBucket(bucket, 'repo/'),
  };
});
