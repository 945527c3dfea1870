// Builds the conformance fixture for any S3 endpoint (Ceph RGW, MinIO, an external one): a fresh
// bucket per test, and the npm minio client as the independent reader of what georep wrote.
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import * as Minio from 'minio';
import type { Site, SiteCapabilities } from '../site.ts';
import { S3Site } from '../s3/s3-site.ts';
import type { ConformanceFixture } from './suite.ts';

export interface S3Endpoint {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3FixtureOptions {
  timeoutMs: number;
  listPageSize: number;
  /** Whether If-None-Match is honoured in Object Lock (versioned) buckets: not on Ceph 16. */
  createOnlyWithObjectLock: boolean;
}

const CAPS: SiteCapabilities = {
  createOnly: true,
  objectLock: false,
  checksumTrailers: false,
  multipart: true,
  rangedReads: true,
  listAfterWrite: true,
};

/** `endpoint` is called when a test opens a site, so the server may start in a beforeAll. */
export function s3Fixture(
  endpoint: () => S3Endpoint,
  options: S3FixtureOptions,
): Pick<ConformanceFixture, 'open' | 'openLocked' | 'readBack' | 'listPageSize'> & {
  openAs(creds: { accessKeyId: string; secretAccessKey: string }): Promise<Site>;
} {
  const buckets = new WeakMap<Site, string>();
  const open = async (
    opts: { objectLock?: boolean; creds?: { accessKeyId: string; secretAccessKey: string } } = {},
  ): Promise<Site> => {
    const server = endpoint();
    const bucket = `conf-${randomBytes(5).toString('hex')}`;
    const objectLock = opts.objectLock === true;
    const creds = opts.creds ?? server;
    const site = new S3Site(
      { kind: 's3', bucket, prefix: 'site/', endpoint: server.endpoint, region: 'us-east-1', credentials: undefined },
      { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
      {
        name: 's3',
        capabilities: { ...CAPS, objectLock, createOnly: !objectLock || options.createOnlyWithObjectLock },
        timeouts: { connectMs: options.timeoutMs, requestMs: options.timeoutMs },
        listPageSize: options.listPageSize,
      },
    );
    await site.createBucket({ objectLock });
    buckets.set(site, bucket);
    return site;
  };
  return {
    open: () => open(),
    openLocked: () => open({ objectLock: true }),
    openAs: (creds) => open({ creds }),
    listPageSize: options.listPageSize,
    async readBack(site, key) {
      const server = endpoint();
      const url = new URL(server.endpoint);
      const client = new Minio.Client({
        endPoint: url.hostname,
        port: Number(url.port),
        useSSL: url.protocol === 'https:',
        accessKey: server.accessKeyId,
        secretKey: server.secretAccessKey,
        region: 'us-east-1',
        pathStyle: true,
      });
      const bucket = buckets.get(site);
      if (bucket === undefined) throw new Error('site not opened by this fixture');
      const bytes = await buffer(await client.getObject(bucket, `site/${key}`));
      const stat = await client.statObject(bucket, `site/${key}`);
      if (stat.size !== bytes.length) throw new Error(`minio stat says ${stat.size} bytes, read ${bytes.length}`);
      return { bytes, etag: stat.etag };
    },
  };
}
