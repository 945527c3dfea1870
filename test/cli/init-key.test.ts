// `georep init` and `georep key add|list|remove` end to end, as an operator runs them: file://
// folders, and one real Ceph RGW site where init must create the bucket itself.
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli, type CliResult } from './run-cli.ts';
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

// The format's minimum KDF cost keeps each password check fast; the flags refuse anything lower.
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const PASSWORD = `first-${randomBytes(6).toString('hex')}`;
const SECOND = `second-${randomBytes(6).toString('hex')}`;

async function folder(): Promise<string> {
  return `file://${await tempDir('georep-cli-repo')}`;
}

function expectNoSecret(result: CliResult, ...secrets: string[]): void {
  for (const text of [result.stdout, result.stderr, result.logs]) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

interface KeyRow {
  id: string;
  current: boolean;
  host?: string;
  kdf?: { memoryKiB: number; iterations: number; parallelism: number };
}

describe('georep init', () => {
  it('creates a repository in a folder and prints its id', async () => {
    const site = await folder();
    const result = await runCli(['init', '--site', site, ...FAST_KDF, '--chunk-avg', '256KiB', '--json'], {
      env: { GEOREP_PASSWORD: PASSWORD },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { id: string; keyId: string; chunker: { avg: number }; packSize: number };
    expect(out.id).toMatch(/^[0-9a-f]{64}$/);
    expect(out.chunker).toEqual({ min: 65536, avg: 262144, max: 1048576 });
    expect(out.packSize).toBe(16 * 1024 * 1024);
    const dir = site.slice('file://'.length);
    expect((await readdir(dir)).filter((n) => !n.startsWith('.')).sort()).toEqual(['config', 'keys']);
    expect(await readdir(path.join(dir, 'keys'))).toEqual([out.keyId]);
    expectNoSecret(result, PASSWORD);

    const text = await runCli(['init', '--site', site, ...FAST_KDF], { env: { GEOREP_PASSWORD: PASSWORD } });
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/already holds a repository/);
  });

  it('prints a summary for a person', async () => {
    const result = await runCli(['init', '--site', await folder(), ...FAST_KDF], { env: { GEOREP_PASSWORD: PASSWORD } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created repository [0-9a-f]{64} at file:\/\//m);
    expect(result.stdout).toMatch(/average 1 MiB/);
    expectNoSecret(result, PASSWORD);
  });

  it('creates the bucket of an s3:// site, then the repository in it', async () => {
    const bucket = `georep-init-${randomBytes(4).toString('hex')}`;
    const url = `s3://${bucket}/repo?endpoint=${server.endpoint}&credentials=env:PARTNER`;
    const env = {
      PARTNER_ACCESS_KEY_ID: server.accessKeyId,
      PARTNER_SECRET_ACCESS_KEY: server.secretAccessKey,
      GEOREP_PASSWORD: PASSWORD,
    };
    const result = await runCli(['init', '--site', url, ...FAST_KDF, '--json'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { id } = JSON.parse(result.stdout) as { id: string };
    await admin.send(new HeadBucketCommand({ Bucket: bucket }));
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe('repo/config');
    expect(keys[1]).toMatch(/^repo\/keys\/[0-9a-f]{64}$/);
    expectNoSecret(result, PASSWORD, server.secretAccessKey);

    const list = await runCli(['key', 'list', '--site', url, '--json'], { env });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as KeyRow[]).map((k) => k.current)).toEqual([true]);
    const again = await runCli(['init', '--site', url, ...FAST_KDF], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a repository/);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses bad flags, and a missing password, before creating anything', async () => {
    const site = await folder();
    const env = { GEOREP_PASSWORD: PASSWORD };
    for (const flags of [
      ['--kdf-memory', '1MiB'],
      ['--kdf-iterations', '1'],
      ['--chunk-avg', '3MiB'],
      ['--pack-size', 'big'],
      ['--object-lock', ...FAST_KDF],
    ]) {
      const result = await runCli(['init', '--site', site, ...flags], { env });
      expect(result.code, flags.join(' ')).toBe(2);
    }
    const none = await runCli(['init', '--site', site, ...FAST_KDF]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/GEOREP_PASSWORD_FILE/);
    expect(await readdir(site.slice('file://'.length))).toEqual([]);
  });

  it('takes the password from a file that only its owner can read', async () => {
    const dir = await tempDir('georep-cli-pw');
    const file = path.join(dir, 'password');
    await writeFile(file, `${PASSWORD}\n`, { mode: 0o600 });
    const site = await folder();
    const init = await runCli(['init', '--site', site, ...FAST_KDF], { env: { GEOREP_PASSWORD_FILE: file } });
    expect(init.code).toBe(0);
    const list = await runCli(['key', 'list', '--site', site], { env: { GEOREP_PASSWORD: PASSWORD } });
    expect(list.code).toBe(0);
    const leaky = path.join(dir, 'leaky');
    await writeFile(leaky, PASSWORD, { mode: 0o644 });
    const refused = await runCli(['key', 'list', '--site', site], { env: { GEOREP_PASSWORD_FILE: leaky } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/chmod 600/);
    expectNoSecret(refused, PASSWORD);
  });
});

describe('georep key', () => {
  it('adds, lists and removes passwords', async () => {
    const site = await folder();
    const first = { GEOREP_PASSWORD: PASSWORD };
    expect((await runCli(['init', '--site', site, ...FAST_KDF], { env: first })).code).toBe(0);

    const add = await runCli(['key', 'add', '--site', site, ...FAST_KDF, '--json'], {
      env: { ...first, GEOREP_NEW_PASSWORD: SECOND },
    });
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const { keyId } = JSON.parse(add.stdout) as { keyId: string };
    expectNoSecret(add, PASSWORD, SECOND);

    const second = { GEOREP_PASSWORD: SECOND };
    const list = await runCli(['key', 'list', '--site', site, '--json'], { env: second });
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as KeyRow[];
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.current)?.id).toBe(keyId);
    expect(rows.find((r) => r.id === keyId)?.kdf).toEqual({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
    const original = rows.find((r) => !r.current)?.id ?? '';

    const table = await runCli(['key', 'list', '--site', site], { env: first });
    expect(table.stdout).toMatch(new RegExp(`^\\*\\s+${original}\\s`, 'm'));
    expect(table.stdout).toContain('argon2id 19 MiB, 2 passes');

    const inUse = await runCli(['key', 'remove', keyId, '--site', site], { env: second });
    expect(inUse.code).toBe(2);
    expect(inUse.stderr).toMatch(/in use/);

    const removed = await runCli(['key', 'remove', original, '--site', site], { env: second });
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/removed key file/);
    const revoked = await runCli(['key', 'list', '--site', site], { env: first });
    expect(revoked.code).toBe(2);
    expect(revoked.stderr).toMatch(/wrong password/);
    expectNoSecret(revoked, PASSWORD);
  });

  it('fails with exit 2 on a wrong password and never shows it', async () => {
    const site = await folder();
    expect((await runCli(['init', '--site', site, ...FAST_KDF], { env: { GEOREP_PASSWORD: PASSWORD } })).code).toBe(0);
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const result = await runCli(['key', 'list', '--site', site], { env: { GEOREP_PASSWORD: wrong } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^georep: wrong password/m);
    expect(result.stderr).toMatch(/^hint: .*GEOREP_PASSWORD_FILE/m);
    expect(result.stdout).toBe('');
    expectNoSecret(result, wrong, PASSWORD);
  });

  it('says there is no repository, and refuses a malformed id', async () => {
    const site = await folder();
    const empty = await runCli(['key', 'list', '--site', site], { env: { GEOREP_PASSWORD: PASSWORD } });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no repository/);
    expect(empty.stderr).toMatch(/georep init/);
    const bad = await runCli(['key', 'remove', 'abc', '--site', site], { env: { GEOREP_PASSWORD: PASSWORD } });
    expect(bad.code).toBe(2);
  });
});
