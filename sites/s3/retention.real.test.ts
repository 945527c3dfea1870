// Object Lock retention on a real Ceph RGW, at the S3 level the conformance suite cannot see:
// what a refused delete leaves in the bucket's version history (no delete marker, no version
// gone that would bring older bytes back), and the whole wrapper stack carrying retention calls.
import { randomBytes } from 'node:crypto';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import type { CephSiteInfo } from '../../test/servers/ceph.ts';
import { NotFoundError, ObjectLockedError, PermanentError } from '../errors.ts';
import type { Site, SiteCapabilities } from '../site.ts';
import { stackSite } from '../stack.ts';
import { S3Site } from './s3-site.ts';

const found: CephSiteInfo | undefined = inject('georepCephSites')[0];
if (found === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server: CephSiteInfo = found;

// Ceph 16 ignores If-None-Match in versioned buckets, so create-only is emulated there.
const LOCKED_CAPS: SiteCapabilities = {
  createOnly: false,
  objectLock: true,
  checksumTrailers: false,
  multipart: true,
  rangedReads: true,
  listAfterWrite: true,
};

const raw = new S3Client({
  endpoint: server.endpoint,
  region: server.region,
  forcePathStyle: true,
  credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
});
const opened: Site[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  raw.destroy();
});

async function lockedSite(): Promise<{ site: S3Site; bucket: string }> {
  const bucket = `ret-${randomBytes(4).toString('hex')}`;
  const site = new S3Site(
    { kind: 's3', bucket, prefix: 'site/', endpoint: server.endpoint, region: 'us-east-1', credentials: undefined },
    { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    { name: 'ceph-locked', capabilities: LOCKED_CAPS, timeouts: { connectMs: 2000, requestMs: 10_000 } },
  );
  opened.push(site);
  await site.createBucket({ objectLock: true });
  return { site, bucket };
}

/** Every version and delete marker of one key, straight from the bucket. */
async function history(bucket: string, key: string): Promise<{ versions: number; deleteMarkers: number }> {
  const out = await raw.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `site/${key}` }));
  const mine = <T extends { Key?: string }>(list: T[] | undefined): T[] => (list ?? []).filter((v) => v.Key === `site/${key}`);
  return { versions: mine(out.Versions).length, deleteMarkers: mine(out.DeleteMarkers).length };
}

describe('Object Lock retention on Ceph RGW', () => {
  it('refuses to delete a COMPLIANCE object with ObjectLockedError and leaves its history as it was', async () => {
    const { site, bucket } = await lockedSite();
    const bytes = randomBytes(4096);
    const until = new Date(Date.now() + 10 * 60 * 1000);
    await site.put('packs/p1', bytes, { retention: { mode: 'COMPLIANCE', until } });
    const err = await site.delete('packs/p1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectLockedError);
    const locked = err as ObjectLockedError;
    expect(locked.key).toBe('packs/p1');
    expect(locked.site).toBe('ceph-locked');
    expect(locked.retention?.mode).toBe('COMPLIANCE');
    expect(Math.abs((locked.retention?.until.getTime() ?? 0) - until.getTime())).toBeLessThan(1000);
    expect(locked.message).toMatch(/packs\/p1: the object is under COMPLIANCE retention until \d{4}-\d\d-\d\dT/);
    // Not half deleted: one version, no delete marker, the same bytes, the same retention.
    expect(await history(bucket, 'packs/p1')).toEqual({ versions: 1, deleteMarkers: 0 });
    expect((await site.get('packs/p1')).equals(bytes)).toBe(true);
    expect((await site.head('packs/p1')).retention).toEqual(locked.retention);
  });

  it('refuses a delete when an older version is retained, without bringing it back into view', async () => {
    const { site, bucket } = await lockedSite();
    await site.put('index/i1', Buffer.from('old'), {
      retention: { mode: 'GOVERNANCE', until: new Date(Date.now() + 10 * 60 * 1000) },
    });
    await site.put('index/i1', Buffer.from('new'));
    expect((await site.head('index/i1')).retention).toBeUndefined();
    const err = await site.delete('index/i1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectLockedError);
    expect((err as ObjectLockedError).retention?.mode).toBe('GOVERNANCE');
    expect((await site.get('index/i1')).toString()).toBe('new');
    expect(await history(bucket, 'index/i1')).toEqual({ versions: 2, deleteMarkers: 0 });
  });

  it('extends retention through the full wrapper stack, and deletes once it has passed', async () => {
    const { site: base, bucket } = await lockedSite();
    const site = stackSite(base, { clock: systemClock, metrics: true, concurrency: 2, faults: [] });
    site.faults?.add({ ops: 'extendRetention', fault: { kind: 'fail' }, times: 1 });
    const bytes = Buffer.from('short-lived');
    const first = new Date(Date.now() + 2000);
    await site.put('data/d1', bytes, { retention: { mode: 'GOVERNANCE', until: first } });

    // One injected transient failure is retried; the extension lands and head shows it.
    const extended = await site.extendRetention('data/d1', { mode: 'COMPLIANCE', until: new Date(Date.now() + 3000) });
    expect(extended.mode).toBe('COMPLIANCE');
    expect(extended.until.getTime()).toBeGreaterThan(first.getTime());
    expect(extended.until.getMilliseconds()).toBe(0);
    expect((await site.head('data/d1')).retention).toEqual(extended);
    expect(site.metrics?.snapshot().ops.extendRetention).toBe(2);

    // A shorter GOVERNANCE request changes nothing.
    expect(await site.extendRetention('data/d1', { mode: 'GOVERNANCE', until: first })).toEqual(extended);
    await expect(site.delete('data/d1')).rejects.toBeInstanceOf(ObjectLockedError);
    expect((await site.get('data/d1')).equals(bytes)).toBe(true);

    await new Promise((r) => setTimeout(r, Math.max(0, extended.until.getTime() - Date.now()) + 1100));
    await site.delete('data/d1');
    await expect(site.head('data/d1')).rejects.toBeInstanceOf(NotFoundError);
    expect(await history(bucket, 'data/d1')).toEqual({ versions: 0, deleteMarkers: 0 });
  });

  it('says PermanentError for an extension at a bucket without Object Lock, before asking it', async () => {
    const bucket = `ret-plain-${randomBytes(4).toString('hex')}`;
    const site = new S3Site(
      { kind: 's3', bucket, prefix: '', endpoint: server.endpoint, region: 'us-east-1', credentials: undefined },
      { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      { name: 'ceph-plain', capabilities: { ...LOCKED_CAPS, objectLock: false }, timeouts: { connectMs: 2000, requestMs: 10_000 } },
    );
    opened.push(site);
    // No bucket was created: a site that asked would get NoSuchBucket, not this.
    const err = await site.extendRetention('k', { mode: 'GOVERNANCE', until: new Date(Date.now() + 60_000) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).message).toBe('site ceph-plain: extend retention of k: the site has no Object Lock');
  });
});
