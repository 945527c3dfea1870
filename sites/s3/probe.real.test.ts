// probeS3 against a real Ceph RGW (started by test/setup/global.ts): what it measures there, and
// that it leaves nothing behind, not even object versions.
import { randomBytes } from 'node:crypto';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { CephSiteInfo } from '../../test/servers/ceph.ts';
import type { ProbeReport } from '../probe.ts';
import type { S3Location } from '../url.ts';
import { probeS3 } from './probe.ts';
import { S3Site } from './s3-site.ts';

const ceph: CephSiteInfo | undefined = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server: CephSiteInfo = ceph;
const creds = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
const timeouts = { connectMs: 2000, requestMs: 10_000 };

const raw = new S3Client({
  region: 'us-east-1',
  endpoint: server.endpoint,
  forcePathStyle: true,
  credentials: creds,
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
afterAll(() => raw.destroy());

async function bucketWith(objectLock: boolean): Promise<S3Location> {
  const loc: S3Location = {
    kind: 's3',
    bucket: `probe-${objectLock ? 'lock' : 'plain'}-${randomBytes(4).toString('hex')}`,
    prefix: 'site/',
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: undefined,
  };
  const site = new S3Site(loc, creds, {
    name: 'setup',
    capabilities: { createOnly: true, objectLock, checksumTrailers: false, multipart: true, rangedReads: true, listAfterWrite: true },
    timeouts,
  });
  await site.createBucket({ objectLock });
  await site.close();
  return loc;
}

async function probe(loc: S3Location, clock: Clock = systemClock): Promise<ProbeReport> {
  return probeS3(loc, creds, { name: 'ceph', clock, timeouts });
}

function check(report: ProbeReport, name: string): { ok: boolean; detail: string } {
  const found = report.checks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no ${name} check in ${JSON.stringify(report.checks)}`);
  return found;
}

async function versionsLeft(bucket: string): Promise<number> {
  const out = await raw.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return (out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0);
}

describe('probeS3 on Ceph RGW', () => {
  it('measures a plain bucket', async () => {
    const loc = await bucketWith(false);
    const report = await probe(loc);
    expect(report.capabilities).toEqual({
      createOnly: true,
      objectLock: false,
      checksumTrailers: false,
      multipart: true,
      rangedReads: true,
      listAfterWrite: true,
    });
    expect(check(report, 'checksumTrailers').detail).toMatch(/411 MissingContentLength/);
    expect(check(report, 'multipart').detail).toMatch(/empty ETag/);
    expect(check(report, 'objectLock').detail).toMatch(/no Object Lock/);
    expect(check(report, 'clockSkew').ok).toBe(true);
    expect(Math.abs(report.clockSkewMs ?? Infinity)).toBeLessThan(2000);
    expect(report.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.url).not.toContain(creds.secretAccessKey);
    expect(check(report, 'cleanup').ok).toBe(true);
    expect(await versionsLeft(loc.bucket)).toBe(0);
  });

  it('measures an Object Lock bucket, and removes its retained probe object', async () => {
    const loc = await bucketWith(true);
    const report = await probe(loc);
    expect(report.capabilities).toEqual({
      // Ceph 16 ignores If-None-Match: * on PUT in versioned buckets, and Object Lock buckets
      // are versioned: racing create-only puts all succeed there.
      createOnly: false,
      objectLock: true,
      checksumTrailers: false,
      multipart: true,
      rangedReads: true,
      listAfterWrite: true,
    });
    expect(check(report, 'objectLock').detail).toMatch(/GOVERNANCE retention held: .*; extending it worked$/);
    expect(check(report, 'cleanup').ok).toBe(true);
    expect(await versionsLeft(loc.bucket)).toBe(0);
  });

  it('reads the clock skew off the Date header, against the injected clock', async () => {
    const loc = await bucketWith(true);
    // Our clock an hour behind the site's: the retained probe object must still be dated in
    // the site's future, or Ceph would refuse it.
    // An hour behind and running: a stopped clock would add the probe's own duration (seconds on
    // a loaded machine) to every skew measured.
    const behind: Clock = { ...systemClock, nowMs: () => systemClock.nowMs() - 3600_000, now: () => new Date(systemClock.nowMs() - 3600_000) };
    const report = await probe(loc, behind);
    expect(report.clockSkewMs).toBeGreaterThan(3600_000 - 2000);
    expect(report.clockSkewMs).toBeLessThan(3600_000 + 2000);
    expect(check(report, 'clockSkew')).toMatchObject({ ok: false });
    expect(check(report, 'clockSkew').detail).toMatch(/ahead of ours/);
    expect(report.capabilities.objectLock).toBe(true);
    expect(await versionsLeft(loc.bucket)).toBe(0);
  });

  it('reports every check as failed, without throwing, when the bucket is missing', async () => {
    const loc: S3Location = { kind: 's3', bucket: 'no-such-bucket-probe', prefix: '', endpoint: server.endpoint, region: 'us-east-1', credentials: undefined };
    const report = await probe(loc);
    expect(Object.values(report.capabilities).every((v) => v === false)).toBe(true);
    expect(check(report, 'writable').detail).toMatch(/NoSuchBucket/);
  });
});
