// The partner-site registry end to end (`georep site add|list|show|probe|remove`), as an operator
// runs it, on both catalogs: the embedded PGlite folder under GEOREP_HOME, and the run's real
// PostgreSQL through GEOREP_CATALOG_URL (a fresh database). Sites are a file:// folder and real
// Ceph RGW buckets reached with credentials by reference (env:PARTNER).
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { openPglite } from '../../catalog/pglite.ts';
import { openPostgres } from '../../catalog/postgres.ts';
import type { CliContext } from '../../cli/context.ts';
import { openNamedSite, resolveSite } from '../../cli/site-registry.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { createDatabase } from '../servers/postgres.ts';
import { runCli, type CliResult } from './run-cli.ts';
import type { SiteJson } from '../../cli/site-view.ts';
import { tempDir } from '../fixtures/temp-dir.ts';

const ceph = inject('georepCephSites')[0];
if (ceph === undefined) throw new Error('no Ceph site: test/setup/global.ts should have started one');
const server = ceph;
const postgresUrl = inject('georepPostgresUrl');

const admin = new S3Client({
  region: 'us-east-1',
  endpoint: server.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
});
afterAll(() => admin.destroy());

async function bucket(objectLock = false): Promise<string> {
  const name = `cli-registry-${randomBytes(4).toString('hex')}`;
  await admin.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: objectLock }));
  return name;
}

async function folder(): Promise<string> {
  return tempDir('georep-registry-site');
}

// The keys travel only through the environment; the catalog is told `env:PARTNER`.
const PARTNER = { PARTNER_ACCESS_KEY_ID: server.accessKeyId, PARTNER_SECRET_ACCESS_KEY: server.secretAccessKey };
const SECRETS = [server.secretAccessKey, server.accessKeyId];
const s3Url = (b: string, query = ''): string => `s3://${b}/georep?endpoint=${server.endpoint}${query}`;

const CEPH_CAPABILITIES = {
  createOnly: true,
  objectLock: false,
  checksumTrailers: false, // Ceph 16 answers 411 to the SDK's aws-chunked CRC trailers
  multipart: true,
  rangedReads: true,
  listAfterWrite: true,
};

function actor(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return `${user}@${os.hostname()}`;
}


interface ShowJson {
  site: SiteJson;
  jurisdictionName: string | null;
  repositories: unknown[];
  history: { at: string; actor: string; action: string }[];
}

/** One catalog for one describe block, and how the test reaches it behind the CLI's back. */
interface CatalogUnderTest {
  env: Record<string, string>;
  /** Opens the catalog directly; only between CLI runs (PGlite serves one opener at a time). */
  open(): Promise<CatalogDb>;
  /** The folder holding the catalog's files, when the test can read them (PGlite). */
  files: string | undefined;
  dispose(): Promise<void>;
}

async function pgliteCatalog(): Promise<CatalogUnderTest> {
  const home = await tempDir('georep-registry-home');
  return {
    env: { GEOREP_HOME: home },
    open: () => openPglite(path.join(home, 'catalog')),
    files: home,
    dispose: async () => undefined,
  };
}

async function postgresCatalog(): Promise<CatalogUnderTest> {
  const home = await tempDir('georep-registry-home');
  const name = `site_registry_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(postgresUrl, name);
  return {
    env: { GEOREP_HOME: home, GEOREP_CATALOG_URL: url },
    open: () => openPostgres(url),
    files: undefined,
    async dispose() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function allFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true });
  const files: string[] = [];
  for (const n of names) {
    const p = path.join(dir, n);
    if ((await stat(p)).isFile()) files.push(p);
  }
  return files;
}

const backends: [string, () => Promise<CatalogUnderTest>][] = [
  ['the embedded PGlite catalog', pgliteCatalog],
  ['PostgreSQL (GEOREP_CATALOG_URL)', postgresCatalog],
];

describe.each(backends)('georep site registry on %s', (_label, make) => {
  let catalog: CatalogUnderTest;
  beforeAll(async () => {
    catalog = await make();
  });
  afterAll(async () => {
    await catalog.dispose();
  });

  /** Runs the CLI against this catalog; every output and log line is checked for the secrets. */
  async function cli(argv: string[], env: Record<string, string> = PARTNER): Promise<CliResult> {
    const result = await runCli(argv, { env: { ...catalog.env, ...env } });
    for (const text of [result.stdout, result.stderr, result.logs]) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
    return result;
  }

  async function ok(argv: string[], env?: Record<string, string>): Promise<CliResult> {
    const result = await cli(argv, env);
    expect(result.stderr, `georep ${argv.join(' ')}`).toBe('');
    expect(result.code).toBe(0);
    return result;
  }

  async function show(name: string): Promise<ShowJson> {
    return JSON.parse((await ok(['site', 'show', name, '--json'])).stdout) as ShowJson;
  }

  async function withDb<T>(fn: (db: CatalogDb) => Promise<T>): Promise<T> {
    const db = await catalog.open();
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  /** How many rows the sites table and the audit log hold: what a refused command must not change. */
  const counts = (): Promise<{ sites: number; audit: number }> =>
    withDb(async (db) => {
      const n = async (table: string): Promise<number> =>
        Number((await db.query<{ n: unknown }>(`select count(*) as n from ${table}`)).rows[0]?.n);
      return { sites: await n('sites'), audit: await n('audit_log') };
    });

  let fsDir: string;
  let cephBucket: string;

  it('adds a file:// site after probing it, with everything an operator says about it', async () => {
    fsDir = await folder();
    const result = await ok([
      'site', 'add', 'fs-1', `file://${fsDir}/`,
      '--region', 'eu-central', '--lat', '52.52', '--lon', '13.405', '--jurisdiction', 'DE',
      '--operator', 'THW Berlin', '--quota', '2TiB', '--bandwidth', '50MiB/s', '--json',
    ]);
    const { site, probe } = JSON.parse(result.stdout) as { site: SiteJson; probe: { checks: unknown[] } };
    expect(site).toMatchObject({
      name: 'fs-1',
      url: `file://${fsDir}`,
      credentialsRef: null,
      region: 'eu-central',
      jurisdiction: 'DE',
      lat: 52.52,
      lon: 13.405,
      operator: 'THW Berlin',
      quotaBytes: 2 * 1024 ** 4,
      bandwidthBytesPerSec: 50 * 1024 ** 2,
      storageClass: null,
    });
    expect(site.capabilities).toMatchObject({ createOnly: true, rangedReads: true, listAfterWrite: true, objectLock: false });
    expect(site.probedAt).not.toBeNull();
    expect(probe.checks.length).toBeGreaterThan(0);
  });

  it('adds a Ceph RGW site, storing the credentials reference and never the keys', async () => {
    cephBucket = await bucket();
    const result = await ok([
      'site', 'add', 'ceph-1', s3Url(cephBucket), '--credentials', 'env:PARTNER',
      '--region', 'us-east', '--lat', '40.71', '--lon', '-74.01', '--jurisdiction', 'US',
      '--storage-class', 'STANDARD',
    ]);
    expect(result.stdout).toContain(`added site ceph-1: s3://${cephBucket}/georep/?endpoint=`);
    expect(result.stdout).toContain('(credentials env:PARTNER)');
    expect(result.stdout).toContain('capabilities: no objectLock, checksumTrailers');
    const { site } = await show('ceph-1');
    expect(site.credentialsRef).toBe('env:PARTNER');
    expect(site.url).toBe(`s3://${cephBucket}/georep/?endpoint=${encodeURIComponent(server.endpoint)}&region=us-east-1`);
    expect(site.capabilities).toEqual(CEPH_CAPABILITIES);
    expect(site.storageClass).toBe('STANDARD');
  });

  it('lists the sites as a table and as JSON', async () => {
    const table = (await ok(['site', 'list'])).stdout;
    expect(table).toMatch(/^name\s+region\s+jurisdiction\s+lat, lon\s+url\s+capabilities\s+probed$/m);
    expect(table).toMatch(/^ceph-1\s+us-east\s+US\s+40\.71, -74\.01\s+s3:\/\/\S+\s+no objectLock, checksumTrailers\s+\d+s ago$/m);
    expect(table).toMatch(new RegExp(`^fs-1\\s+eu-central\\s+DE\\s+52\\.52, 13\\.405\\s+file://${fsDir}\\s+no .*\\d+s ago$`, 'm'));
    const sites = JSON.parse((await ok(['site', 'list', '--json'])).stdout) as SiteJson[];
    expect(sites.map((s) => s.name)).toEqual(['ceph-1', 'fs-1']);
  });

  it('shows everything known about one site', async () => {
    const text = (await ok(['site', 'show', 'fs-1'])).stdout;
    expect(text).toMatch(/^jurisdiction\s+DE \(Germany\)$/m);
    expect(text).toMatch(/^quota\s+2 TiB$/m);
    expect(text).toMatch(/^bandwidth\s+50 MiB\/s$/m);
    expect(text).toMatch(/^operator\s+THW Berlin$/m);
    expect(text).toMatch(/^createOnly\s+yes$/m);
    expect(text).toMatch(/site\.add$/m);
    const ceph1 = (await ok(['site', 'show', 'ceph-1'])).stdout;
    expect(ceph1).toMatch(/^credentials\s+env:PARTNER$/m);
    const json = await show('fs-1');
    expect(json.jurisdictionName).toBe('Germany');
    expect(json.repositories).toEqual([]);
    expect(json.history.map((h) => [h.action, h.actor])).toEqual([['site.add', actor()]]);
  });

  it('probes a registered site by name and stores what it found', async () => {
    // Registered unprobed, the reference in the URL this time; the bucket has Object Lock.
    const locked = await bucket(true);
    await ok([
      'site', 'add', 'ceph-locked', s3Url(locked, '&credentials=env:PARTNER'), '--no-probe',
      '--region', 'eu-north', '--lat', '59.33', '--lon', '18.07', '--jurisdiction', 'SE',
    ]);
    const before = await show('ceph-locked');
    expect(before.site.capabilities).toBeNull();
    expect(before.site.probedAt).toBeNull();
    expect(before.site.credentialsRef).toBe('env:PARTNER');
    expect(before.site.url).not.toContain('credentials');
    expect((await ok(['site', 'list'])).stdout).toMatch(/^ceph-locked\s+.*not probed\s+never$/m);

    const probed = await ok(['site', 'probe', 'ceph-locked', '--json']);
    const report = JSON.parse(probed.stdout) as { site: string; stored: boolean; capabilities: Record<string, boolean> };
    expect(report).toMatchObject({ site: 'ceph-locked', stored: true });
    const after = await show('ceph-locked');
    // Ceph 16 ignores If-None-Match in versioned buckets, and Object Lock buckets are versioned.
    expect(after.site.capabilities).toEqual({ ...CEPH_CAPABILITIES, objectLock: true, createOnly: false });
    expect(after.site.probedAt).not.toBeNull();

    // Probing again moves probed_at on.
    const text = (await ok(['site', 'probe', 'ceph-locked'])).stdout;
    expect(text).toMatch(/^site ceph-locked: s3:\/\//m);
    expect(text).toMatch(/stored in the catalog/);
    const again = await show('ceph-locked');
    expect(Date.parse(again.site.probedAt ?? '')).toBeGreaterThan(Date.parse(after.site.probedAt ?? ''));
    expect(again.history.map((h) => h.action)).toEqual(['site.add', 'site.probe', 'site.probe']);
  });

  it('opens a registered site with its stored capabilities and credentials reference', async () => {
    const ctx: CliContext = {
      env: { ...catalog.env, ...PARTNER },
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      clock: systemClock,
      logger: silentLogger(),
      exitCode: 0,
    };
    await withDb(async (db) => {
      const { record, site } = await openNamedSite(ctx, db, 'ceph-locked');
      try {
        expect(record.name).toBe('ceph-locked');
        expect(site.capabilities).toMatchObject({ objectLock: true, createOnly: false, checksumTrailers: false });
        await site.put('registry-check/hello', Buffer.from('hello'));
        expect((await site.get('registry-check/hello')).toString()).toBe('hello');
        await site.delete('registry-check/hello');
      } finally {
        await site.close();
      }
      const byName = await resolveSite(ctx, db, 'ceph-1');
      expect(byName.record?.name).toBe('ceph-1');
      expect(byName.location).toMatchObject({ kind: 's3', bucket: cephBucket, credentials: 'env:PARTNER' });
      // The same URL as typed, without its reference, still finds the registered site.
      const byUrl = await resolveSite(ctx, db, s3Url(cephBucket));
      expect(byUrl.name).toBe('ceph-1');
      expect(byUrl.location).toMatchObject({ credentials: 'env:PARTNER' });
      const stranger = await resolveSite(ctx, db, `file://${await folder()}`);
      expect(stranger.record).toBeNull();
      await expect(resolveSite(ctx, db, 'nobody')).rejects.toThrow(/no site named 'nobody'/);
    });
  });

  it('refuses a site it cannot write to (exit 1) and stores nothing, unless --no-probe', async () => {
    const before = await counts();
    const missing = `cli-registry-missing-${randomBytes(4).toString('hex')}`;
    const args = ['site', 'add', 'nowhere', s3Url(missing), '--credentials', 'env:PARTNER',
      '--region', 'r', '--lat', '0', '--lon', '0', '--jurisdiction', 'FR'];
    const refused = await cli(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/site 'nowhere' could not be written to, so it was not added: .*NoSuchBucket/);
    expect(refused.stderr).toMatch(/^hint: .*--no-probe/m);
    expect(await counts()).toEqual(before);

    await ok([...args, '--no-probe']);
    // A probe by name that cannot write keeps what was stored (here: nothing) and says so.
    const probe = await cli(['site', 'probe', 'nowhere']);
    expect(probe.code).toBe(1);
    expect(probe.stdout).toMatch(/not stored: the probe could not write/);
    expect((await show('nowhere')).site.capabilities).toBeNull();
    await ok(['site', 'remove', 'nowhere']);
  });

  it('removes a site softly, and takes the same name again', async () => {
    const removed = await ok(['site', 'remove', 'fs-1']);
    expect(removed.stdout).toMatch(/^removed site fs-1 /);
    expect((await ok(['site', 'list'])).stdout).not.toMatch(/^fs-1 /m);
    for (const argv of [['site', 'remove', 'fs-1'], ['site', 'show', 'fs-1'], ['site', 'probe', 'fs-1']]) {
      const gone = await cli(argv);
      expect(gone.code, argv.join(' ')).toBe(2);
      expect(gone.stderr).toMatch(/no site named 'fs-1' in the catalog/);
      expect(gone.stderr).toMatch(/^hint: it was removed at .*georep site add registers it again$/m);
    }
    const never = await cli(['site', 'remove', 'never-was']);
    expect(never.code).toBe(2);
    expect(never.stderr).toMatch(/^hint: georep site list shows the registered sites/m);

    const other = await folder();
    await ok(['site', 'add', 'fs-1', `file://${other}`, '--region', 'eu-west', '--lat', '48.86', '--lon', '2.35', '--jurisdiction', 'FR']);
    const again = await show('fs-1');
    expect(again.site).toMatchObject({ url: `file://${other}`, jurisdiction: 'FR', operator: null });
    expect(again.history.map((h) => h.action)).toEqual(['site.add', 'site.remove', 'site.add']);
    // The removed row stays for the history that points at it.
    const rows = await withDb(async (db) =>
      (await db.query<{ removed: boolean }>("select removed_at is not null as removed from sites where name = 'fs-1' order by id")).rows,
    );
    expect(rows.map((r) => r.removed)).toEqual([true, false]);
  });

  it('records additions and removals in the audit log, with who did them', async () => {
    const entries = await withDb(async (db) =>
      (await db.query<{ actor: string; action: string; subject: string; details: Record<string, unknown> }>(
        "select actor, action, subject, details from audit_log where subject = 'fs-1' order by id",
      )).rows,
    );
    expect(entries.map((e) => e.action)).toEqual(['site.add', 'site.remove', 'site.add']);
    for (const e of entries) expect(e.actor).toBe(actor());
    expect(entries[0]?.details).toMatchObject({ url: `file://${fsDir}`, region: 'eu-central', jurisdiction: 'DE', probed: true });
    expect(entries[1]?.details).toEqual({ url: `file://${fsDir}` });
  });

  const badInputs: [string, string[], RegExp][] = [
    ['a bad name', ['site', 'add', 'bad name!', 'file:///tmp/x'], /site name "bad name!" is not valid/],
    ['a name too long', ['site', 'add', 'x'.repeat(65), 'file:///tmp/x'], /site name "x+" is not valid/],
    ['a bad URL', ['site', 'add', 'ok-1', 'ftp://example.org/x'], /site URL "ftp:\/\/example.org\/x" has unsupported scheme/],
    ['a relative file URL', ['site', 'add', 'ok-1', 'file://relative/x'], /file site URL "file:\/\/relative\/x" must be/],
    ['lat 91', ['site', 'add', 'ok-1', 'file:///tmp/x', '--lat', '91'], /--lat 91 is out of range/],
    ['lon -181', ['site', 'add', 'ok-1', 'file:///tmp/x', '--lon', '-181'], /--lon -181 is out of range/],
    ['lat that is no number', ['site', 'add', 'ok-1', 'file:///tmp/x', '--lat', 'north'], /--lat "north" is not a number/],
    ['jurisdiction china', ['site', 'add', 'ok-1', 'file:///tmp/x', '--jurisdiction', 'china'], /--jurisdiction "china" is not an ISO 3166-1 alpha-2[^]*hint: did you mean CN \(China\)\?/],
    ['quota 2 parsecs', ['site', 'add', 'ok-1', 'file:///tmp/x', '--quota', '2 parsecs'], /--quota "2 parsecs" is not a size/],
    ['bandwidth without a rate', ['site', 'add', 'ok-1', 'file:///tmp/x', '--bandwidth', '50MiB'], /--bandwidth "50MiB" is not a rate/],
    ['both credentials forms', ['site', 'add', 'ok-1', 's3://some-bucket?credentials=env:A', '--credentials', 'env:B'], /credentials reference is given twice/],
    ['credentials for a folder', ['site', 'add', 'ok-1', 'file:///tmp/x', '--credentials', 'env:B'], /--credentials applies to s3:\/\/ sites only/],
    ['an empty region', ['site', 'add', 'ok-1', 'file:///tmp/x', '--region', ' '], /--region must be 1 to 100 printable characters/],
    ['a missing jurisdiction', ['site', 'add', 'ok-1', 'file:///tmp/x', '!--jurisdiction'], /Missing required argument: jurisdiction/],
    ['a name already live', ['site', 'add', 'ceph-1', 'file:///tmp/x'], /a site named 'ceph-1' is already registered/],
  ];
  // The required flags a case does not set itself are added; `!--flag` leaves that one out.
  const complete = (argv: string[]): string[] => {
    const given = new Set(argv.filter((a) => a.startsWith('--') || a.startsWith('!--')).map((a) => a.replace(/^!/, '')));
    const defaults: [string, string][] = [['--region', 'r'], ['--lat', '1'], ['--lon', '2'], ['--jurisdiction', 'DE']];
    return [...argv.filter((a) => !a.startsWith('!')), ...defaults.filter(([flag]) => !given.has(flag)).flat()];
  };

  it.each(badInputs)('refuses %s with exit 2, naming the field, and stores nothing', async (_what, argv, message) => {
    const before = await counts();
    const result = await cli([...complete(argv), '--no-probe']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(await counts()).toEqual(before);
  });

  it('never echoes what was passed as --credentials when it is not a reference', async () => {
    const pasted = `pasted-${server.secretAccessKey}`;
    const result = await runCli(complete(['site', 'add', 'ok-1', 's3://some-bucket', '--credentials', pasted]), {
      env: catalog.env,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--credentials must be a reference, env:NAME or file:\/absolute\/path/);
    expect(result.stderr + result.stdout + result.logs).not.toContain(server.secretAccessKey);
  });

  it('probes a URL as before, without touching the catalog', async () => {
    const home = await tempDir('georep-registry-nohome');
    const result = await runCli(['site', 'probe', `file://${await folder()}`, '--json'], { env: { GEOREP_HOME: home } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).not.toHaveProperty('stored');
    expect(await readdir(home)).toEqual([]);
    const neither = await cli(['site', 'probe', '/tmp/forgot-the-scheme']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/is neither a site name nor a site URL/);
  });

  it('keeps the keys out of every catalog row and every catalog file', async () => {
    const rows = await withDb(async (db) => {
      const { rows: tables } = await db.query<{ table_name: string }>(
        `select table_name from information_schema.tables
         where table_schema = current_schema() and table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['sites', 'audit_log']));
      const text: string[] = [];
      for (const { table_name } of tables) {
        const { rows: all } = await db.query<{ row: string }>(`select t::text as row from ${table_name} t`);
        text.push(...all.map((r) => r.row));
      }
      return text.join('\n');
    });
    expect(rows).toContain('env:PARTNER');
    for (const secret of SECRETS) expect(rows).not.toContain(secret);
    if (catalog.files !== undefined) {
      // PGlite's own files (heap, WAL): what was never sent to the database cannot be in them.
      const files = await allFiles(catalog.files);
      let references = 0;
      for (const file of files) {
        const bytes = await readFile(file);
        if (bytes.includes('env:PARTNER')) references++;
        for (const secret of SECRETS) expect(bytes.includes(secret), file).toBe(false);
      }
      // The search does see stored text: the reference is there, in the heap and the WAL.
      expect(references).toBeGreaterThan(0);
    }
  });
});
