// `georep site probe` end to end: a file:// folder and a real Ceph RGW site, as an operator runs it.
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { tempDir } from '../fixtures/temp-dir.ts';

const ceph = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server = ceph;

const admin = new S3Client({
  region: 'us-east-1',
  endpoint: server.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
});
afterAll(() => admin.destroy());

async function bucket(objectLock: boolean): Promise<string> {
  const name = `cli-probe-${randomBytes(4).toString('hex')}`;
  await admin.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: objectLock }));
  return name;
}

// Credentials travel by reference: the CLI reads PARTNER_ACCESS_KEY_ID/PARTNER_SECRET_ACCESS_KEY.
const env = { PARTNER_ACCESS_KEY_ID: server.accessKeyId, PARTNER_SECRET_ACCESS_KEY: server.secretAccessKey };
const url = (b: string): string => `s3://${b}/georep?endpoint=${server.endpoint}&credentials=env:PARTNER`;

interface Report {
  capabilities: Record<string, boolean>;
  checks: { name: string; ok: boolean; detail: string }[];
  clockSkewMs: number;
}

describe('georep site probe', () => {
  it('reports what a Ceph RGW site can do, as JSON', async () => {
    const result = await runCli(['site', 'probe', url(await bucket(false)), '--json'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.capabilities).toEqual({
      createOnly: true,
      objectLock: false,
      checksumTrailers: false, // Ceph 16 answers 411 to the SDK's aws-chunked CRC trailers
      multipart: true,
      rangedReads: true,
      listAfterWrite: true,
    });
    expect(Math.abs(report.clockSkewMs)).toBeLessThan(5_000);
  });

  it('finds Object Lock on a bucket that has it, and that create-only does not hold there', async () => {
    const result = await runCli(['site', 'probe', url(await bucket(true)), '--json'], { env });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.capabilities.objectLock).toBe(true);
    // Ceph 16 ignores If-None-Match in versioned buckets, and Object Lock buckets are versioned.
    expect(report.capabilities.createOnly).toBe(false);
  });

  it('prints a table for a person, and never the secret', async () => {
    const result = await runCli(['site', 'probe', url(await bucket(false))], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^createOnly\s+yes\s/m);
    expect(result.stdout).toMatch(/^checksumTrailers\s+no\s+.*411/m);
    for (const text of [result.stdout, result.stderr, result.logs]) {
      expect(text).not.toContain(server.secretAccessKey);
      expect(text).not.toContain(server.accessKeyId);
    }
  });

  it('fails with exit 1 and a hint when the bucket does not exist', async () => {
    const result = await runCli(['site', 'probe', url('no-such-bucket-here')], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^writable\s+no\s+.*NoSuchBucket.*hint: the bucket does not exist/m);
  });

  it('refuses with exit 2, naming the variable, when the credentials reference is empty', async () => {
    const result = await runCli(['site', 'probe', url(await bucket(false)), '--timeout', '5'], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PARTNER_ACCESS_KEY_ID/);
  });

  it('probes a file:// folder and leaves nothing behind', async () => {
    const dir = await tempDir('georep-probe');
    const result = await runCli(['site', 'probe', `file://${dir}`, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.capabilities).toMatchObject({ createOnly: true, rangedReads: true, listAfterWrite: true, objectLock: false });
    const left = (await readdir(dir, { recursive: true })).filter((n) => !n.startsWith('.tmp~'));
    expect(left.filter((n) => !n.startsWith('probe'))).toEqual([]);
  });

  it('refuses bad input with exit 2 and names the problem', async () => {
    const bad = await runCli(['site', 'probe', 's3://Bad_Bucket']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"Bad_Bucket" is not a valid bucket name/);
    const inline = await runCli(['site', 'probe', 's3://AKIAXX:topsecret@bucket']);
    expect(inline.code).toBe(2);
    expect(inline.stderr).not.toContain('topsecret');
    const unknown = await runCli(['site', 'prob']);
    expect(unknown.code).toBe(2);
  });

  it('refuses a credentials file that others can read', async () => {
    const dir = await tempDir('georep-creds');
    const file = path.join(dir, 'partner.json');
    await writeFile(file, JSON.stringify({ accessKeyId: 'AKIAX', secretAccessKey: 'leaky-secret' }), { mode: 0o644 });
    const result = await runCli(['site', 'probe', `s3://somebucket?endpoint=${server.endpoint}&credentials=file:${file}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/chmod 600/);
    expect(result.stderr + result.stdout).not.toContain('leaky-secret');
  });
});
