// S3Site against a real Ceph RGW (started by test/setup/global.ts). Each test uses its own
// bucket; the hung-gateway test starts a site of its own, since pausing the shared one would
// stall every other test file running against it.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cephSiteControl, startCephSite, type CephSiteInfo, type S3Credentials } from '../../test/servers/ceph.ts';
import {
  NotFoundError,
  ObjectLockedError,
  PermanentError,
  PreconditionFailedError,
  QuotaExceededError,
  TimeoutError,
} from '../errors.ts';
import type { ObjectInfo, SiteCapabilities } from '../site.ts';
import type { S3Location } from '../url.ts';
import { S3Site, type S3SiteOptions } from './s3-site.ts';

const ceph: CephSiteInfo | undefined = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server: CephSiteInfo = ceph;

const CEPH_CAPS: SiteCapabilities = {
  createOnly: true,
  objectLock: false,
  checksumTrailers: false,
  multipart: true,
  rangedReads: true,
  listAfterWrite: true,
};

const sites: S3Site[] = [];
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

function bucketName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

function location(bucket: string, prefix = 'site/', endpoint = server.endpoint): S3Location {
  return { kind: 's3', bucket, prefix, endpoint, region: 'us-east-1', credentials: undefined };
}

function makeSite(
  loc: S3Location,
  opts: Partial<S3SiteOptions> = {},
  creds: S3Credentials = server,
): S3Site {
  const site = new S3Site(loc, { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }, {
    name: 'ceph',
    capabilities: CEPH_CAPS,
    timeouts: { connectMs: 2000, requestMs: 10_000 },
    ...opts,
  });
  sites.push(site);
  return site;
}

async function freshSite(label: string, opts: Partial<S3SiteOptions> & { objectLock?: boolean } = {}): Promise<S3Site> {
  const site = makeSite(location(bucketName(label)), {
    ...opts,
    capabilities: { ...CEPH_CAPS, objectLock: opts.objectLock === true, ...opts.capabilities },
  });
  await site.createBucket({ objectLock: opts.objectLock === true });
  return site;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection');
  return err;
}

async function listAll(site: S3Site, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of site.list(prefix)) out.push(info);
  return out;
}

const md5 = (b: Uint8Array): Buffer => createHash('md5').update(b).digest();

describe('S3Site on Ceph RGW', () => {
  it('round-trips bytes and streams, and heads them', async () => {
    const site = await freshSite('roundtrip');
    const bytes = randomBytes(100_000);
    const put = await site.put('a/bytes', bytes);
    expect(put.etag).toBe(md5(bytes).toString('hex'));
    expect((await site.get('a/bytes')).equals(bytes)).toBe(true);

    // Larger than the SDK's Expect: 100-continue threshold, sent in several chunks.
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = [big.subarray(0, 1000), big.subarray(1000, 2_000_000), big.subarray(2_000_000)];
    await site.put('a/stream', { size: big.byteLength, md5: md5(big), open: () => Readable.from(chunks) });
    expect((await site.get('a/stream')).equals(big)).toBe(true);

    const head = await site.head('a/stream');
    expect(head).toMatchObject({ key: 'a/stream', size: big.byteLength, etag: md5(big).toString('hex') });
    expect(head.lastModified).toBeInstanceOf(Date);

    await site.put('a/empty', new Uint8Array(0));
    expect((await site.get('a/empty')).byteLength).toBe(0);
  });

  it('reads exact ranges, clipped at the end', async () => {
    const site = await freshSite('range');
    const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    await site.put('r', bytes);
    expect((await site.get('r', { range: { offset: 3, length: 7 } })).equals(bytes.subarray(3, 10))).toBe(true);
    expect((await site.get('r', { range: { offset: 95 } })).equals(bytes.subarray(95))).toBe(true);
    expect((await site.get('r', { range: { offset: 95, length: 50 } })).equals(bytes.subarray(95))).toBe(true);
    expect((await site.get('r', { range: { offset: 99, length: 1 } })).equals(bytes.subarray(99))).toBe(true);
    expect((await site.get('r', { range: { offset: 10, length: 0 } })).byteLength).toBe(0);
    expect(await rejection(site.get('r', { range: { offset: 100 } }))).toBeInstanceOf(PermanentError);
    expect(await rejection(site.get('r', { range: { offset: 100, length: 0 } }))).toBeInstanceOf(PermanentError);
    await site.put('empty', new Uint8Array(0));
    expect((await site.get('empty', { range: { offset: 0 } })).byteLength).toBe(0);
  });

  it('reads a ranged body into the buffer it is given when it fits, and into its own when not', async () => {
    const site = await freshSite('range-into');
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    await site.put('p', bytes);
    const into = new Uint8Array(new ArrayBuffer(4 * 1024 * 1024), 64, 4 * 1024 * 1024 - 64);
    const got = await site.get('p', { range: { offset: 1000, length: 3 * 1024 * 1024 }, into });
    expect(got.buffer).toBe(into.buffer);
    expect(got.byteOffset).toBe(64);
    expect(got.equals(bytes.subarray(1000, 1000 + 3 * 1024 * 1024))).toBe(true);
    const small = new Uint8Array(100);
    const whole = await site.get('p', { range: { offset: 0 }, into: small });
    expect(whole.buffer).not.toBe(small.buffer);
    expect(whole.equals(bytes)).toBe(true);
  });

  it('refuses a create-only put over an existing key with 412 and keeps the old bytes', async () => {
    const site = await freshSite('create-only');
    await site.put('manifest', Buffer.from('first'), { createOnly: true });
    const err = await rejection(site.put('manifest', Buffer.from('second'), { createOnly: true }));
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect(err.message).toMatch(/site ceph: put manifest: 412/);
    expect((await site.get('manifest')).toString()).toBe('first');
    // A stream body the same.
    const stream = { size: 6, open: () => Readable.from([Buffer.from('second')]) };
    expect(await rejection(site.put('manifest', stream, { createOnly: true }))).toBeInstanceOf(PreconditionFailedError);
    expect((await site.get('manifest')).toString()).toBe('first');
  });

  it('emulates create-only with a HEAD where the site cannot do it (Ceph 16 versioned buckets)', async () => {
    // Ceph 16 ignores If-None-Match: * in versioned buckets, and Object Lock makes them
    // versioned: the probe reports createOnly=false there, and the site falls back to HEAD.
    const site = await freshSite('emulated', { objectLock: true, capabilities: { ...CEPH_CAPS, objectLock: true, createOnly: false } });
    await site.put('manifest', Buffer.from('first'), { createOnly: true });
    expect(await rejection(site.put('manifest', Buffer.from('second'), { createOnly: true }))).toBeInstanceOf(
      PreconditionFailedError,
    );
    expect((await site.get('manifest')).toString()).toBe('first');
  });

  it('refuses a body whose Content-MD5 does not match, storing nothing', async () => {
    const site = await freshSite('bad-md5');
    const body = Buffer.from('the bytes that were sent');
    const wrong = md5(Buffer.from('the bytes that were meant'));
    const err = await rejection(site.put('k', { size: body.byteLength, md5: wrong, open: () => Readable.from([body]) }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toContain('400 BadDigest');
    expect(await rejection(site.head('k'))).toBeInstanceOf(NotFoundError);
  });

  it('leaves no object when the body stream fails half way, or has the wrong size', async () => {
    const site = await freshSite('broken-body');
    const failing = (size: number, failAt: number) => (): Readable => {
      let sent = 0;
      return new Readable({
        read() {
          if (sent >= failAt) {
            // After a pause, so the first half is surely on the wire.
            setTimeout(() => this.destroy(new Error('disk read failed')), 50);
            return;
          }
          const n = Math.min(64 * 1024, failAt - sent);
          sent += n;
          this.push(randomBytes(n));
        },
      });
    };
    for (const [size, failAt] of [
      [1000, 500],
      [8 * 1024 * 1024, 4 * 1024 * 1024],
    ] as const) {
      const err = await rejection(site.put(`half-${size}`, { size, open: failing(size, failAt) }));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toMatch(/the body failed: disk read failed/);
      expect(await rejection(site.head(`half-${size}`))).toBeInstanceOf(NotFoundError);
    }
    const short = await rejection(site.put('short', { size: 100, open: () => Readable.from([Buffer.alloc(50)]) }));
    expect(short.message).toMatch(/ended after 50 of its declared 100 bytes/);
    const long = await rejection(site.put('long', { size: 10, open: () => Readable.from([Buffer.alloc(50)]) }));
    expect(long.message).toMatch(/longer than its declared size/);
    expect(await listAll(site, '')).toEqual([]);
  });

  it('says NotFoundError for a missing key, and deleting one is fine', async () => {
    const site = await freshSite('missing');
    const get = await rejection(site.get('no/such/key'));
    expect(get).toBeInstanceOf(NotFoundError);
    expect(get.message).toMatch(/^site ceph: get no\/such\/key: 404 NoSuchKey/);
    expect(await rejection(site.head('no/such/key'))).toBeInstanceOf(NotFoundError);
    await site.delete('no/such/key');
    await site.put('k', Buffer.from('x'));
    await site.delete('k');
    expect(await rejection(site.get('k'))).toBeInstanceOf(NotFoundError);
  });

  it('refuses invalid keys before touching storage', async () => {
    const site = makeSite(location('no-such-bucket-for-keys'));
    for (const key of ['', '../x', 'a//b', 'a b', '/a']) {
      const err = await rejection(site.put(key, Buffer.from('x')));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toMatch(/invalid object key/);
    }
  });

  it('lists across pages, filters by prefix, strips the site prefix, skips invalid keys', async () => {
    const bucket = bucketName('list');
    const site = makeSite(location(bucket, 'site-a/'), { listPageSize: 2 });
    await site.createBucket();
    const keys = ['d/1', 'd/2', 'd/3', 'd/4', 'd/5', 'd/6', 'd/7', 'dx', 'e/1'];
    for (const k of keys) await site.put(k, Buffer.from(k));
    // Another site in the same bucket, and keys no georep site would write.
    const other = makeSite(location(bucket, 'site-b/'));
    await other.put('d/1', Buffer.from('other site'));
    const raw = new S3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    for (const bad of ['site-a/d/has space', 'site-a/d//double', 'site-a/d/../up', 'site-a/d/ünicode']) {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: bad, Body: 'x' }));
    }
    raw.destroy();

    const d = await listAll(site, 'd/');
    expect(d.map((o) => o.key).sort()).toEqual(['d/1', 'd/2', 'd/3', 'd/4', 'd/5', 'd/6', 'd/7']);
    expect(d.every((o) => o.size === 3 && typeof o.etag === 'string')).toBe(true);
    expect((await listAll(site, 'd')).map((o) => o.key).sort()).toEqual([...keys.filter((k) => k.startsWith('d'))].sort());
    expect((await listAll(site, '')).map((o) => o.key).sort()).toEqual([...keys].sort());
    expect((await listAll(other, '')).map((o) => o.key)).toEqual(['d/1']);
    expect(await listAll(site, 'nothing/')).toEqual([]);
    expect(await rejection(listAll(site, '../'))).toBeInstanceOf(PermanentError);
  });

  it('keeps a COMPLIANCE-retained object from being deleted', async () => {
    const site = await freshSite('lock', { objectLock: true });
    // The cluster is thrown away after the run, so a day of retention costs nothing.
    const until = new Date(Date.now() + 24 * 3600 * 1000);
    await site.put('locked', Buffer.from('kept'), { retention: { mode: 'COMPLIANCE', until } });
    const err = await rejection(site.delete('locked'));
    expect(err).toBeInstanceOf(ObjectLockedError);
    expect(err.message).toMatch(/under COMPLIANCE retention until/);
    expect((await site.get('locked')).toString()).toBe('kept');
    // Unretained objects in the same (versioned) bucket are deleted for real, every version.
    await site.put('free', Buffer.from('v1'));
    await site.put('free', Buffer.from('v2'));
    await site.delete('free');
    expect(await rejection(site.head('free'))).toBeInstanceOf(NotFoundError);
  });

  it('refuses retention on a site without Object Lock, before writing', async () => {
    const site = await freshSite('nolock');
    const until = new Date(Date.now() + 3600 * 1000);
    const err = await rejection(site.put('k', Buffer.from('x'), { retention: { mode: 'GOVERNANCE', until } }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(await rejection(site.head('k'))).toBeInstanceOf(NotFoundError);
    // createBucket({objectLock}) on that bucket says the lock cannot be added.
    expect(await rejection(site.createBucket({ objectLock: true }))).toBeInstanceOf(PermanentError);
  });

  it('says QuotaExceededError when the user is full', async () => {
    const control = cephSiteControl(server.dir);
    const creds = await control.createUser({ uid: `quota-${randomBytes(3).toString('hex')}`, quotaBytes: 100_000 });
    const site = makeSite(location(bucketName('quota')), {}, creds);
    await site.createBucket();
    let err: Error | undefined;
    for (let i = 0; i < 10 && err === undefined; i++) {
      err = await site.put(`k${i}`, randomBytes(40_000)).then(() => undefined, (e: Error) => e);
    }
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect(err?.message).toMatch(/403 QuotaExceeded/);
  });

  it('rejects an aborted operation with the abort reason', async () => {
    const site = await freshSite('abort');
    const reason = new Error('operator cancelled');
    const ac = new AbortController();
    ac.abort(reason);
    expect(await rejection(site.put('k', Buffer.from('x'), { signal: ac.signal }))).toBe(reason);
    expect(await rejection(site.get('k', { signal: ac.signal }))).toBe(reason);
    // Mid-flight: a stream body that never ends.
    const late = new AbortController();
    setTimeout(() => late.abort(reason), 200);
    const started = performance.now();
    const hanging = { size: 1000, open: () => new Readable({ read() {} }) };
    expect(await rejection(site.put('k', hanging, { signal: late.signal }))).toBe(reason);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await rejection(site.head('k'))).toBeInstanceOf(NotFoundError);
  });

  it('says TimeoutError within about the request timeout when the gateway hangs', async () => {
    const own = await startCephSite();
    try {
      const site = makeSite(location(bucketName('hung'), 'site/', own.endpoint), { timeouts: { connectMs: 2000, requestMs: 2000 } }, own);
      await site.createBucket();
      await site.put('k', randomBytes(1000));
      await own.pause();
      try {
        const ops: [string, () => Promise<unknown>][] = [
          ['head', () => site.head('k')],
          ['get', () => site.get('k')],
          ['put', () => site.put('k2', randomBytes(1000))],
          ['put stream', () => site.put('k3', { size: 4 * 1024 * 1024, open: () => Readable.from([randomBytes(4 * 1024 * 1024)]) })],
          ['list', () => listAll(site, '')],
        ];
        for (const [, op] of ops) {
          const started = performance.now();
          const err = await rejection(op());
          const ms = performance.now() - started;
          expect(err).toBeInstanceOf(TimeoutError);
          expect(ms).toBeGreaterThan(1500);
          expect(ms).toBeLessThan(6000);
        }
      } finally {
        await own.resume();
      }
      expect((await site.head('k')).size).toBe(1000);
    } finally {
      await own.stop();
    }
  }, 120_000);
});
