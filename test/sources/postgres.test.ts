// A PostgreSQL database as a dataset source, end to end on the run's real server and three real
// Ceph RGW sites: pgbench tables plus bytea, json and a large object are dumped (pg_dump streamed
// into the pipeline) and shipped to three sites; the dump restored with pg_restore into a new
// database has exactly the row counts the snapshot recorded; after 5% of the accounts change,
// the next snapshot stores well under half the bytes of the first; a drill of that snapshot restores
// it into a scratch database where the row counts and the contract's checks match (the scratch is
// dropped); the password given by reference appears in no output or log.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../servers/postgres.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { bucketSite, cephSites } from '../ship/fixtures.ts';

const run = promisify(execFile);
const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
let tmp: string;
let env: Record<string, string>;
let sourceUrl: string;
let serverUrl: URL;
const cliOutput: string[] = [];

const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await runCli(args, { env });
  cliOutput.push(r.stdout, r.stderr, r.logs);
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};

function pgBin(tool: string): string {
  const root = '/usr/lib/postgresql';
  const v = readdirSync(root).filter((d) => existsSync(path.join(root, d, 'bin', tool))).sort((a, b) => Number(b) - Number(a))[0];
  if (v === undefined) throw new Error(`no ${tool} under ${root}`);
  return path.join(root, v, 'bin', tool);
}

/** The URL of `database` as the role with a password (what an operator keeps in a variable). */
function withRole(database: string): string {
  const u = new URL(serverUrl);
  u.username = 'georep_dump';
  u.password = PASSWORD;
  u.pathname = `/${database}`;
  return u.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function rowCounts(url: string): Promise<Record<string, number>> {
  const tables = await query<{ s: string; n: string }>(
    url,
    `select n.nspname as s, c.relname as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname = 'public' order by 2`,
  );
  const out: Record<string, number> = {};
  for (const t of tables) out[`${t.s}.${t.n}`] = Number((await query<{ c: string }>(url, `select count(*) as c from public."${t.n}"`))[0]!.c);
  out.largeObjects = Number((await query<{ c: string }>(url, 'select count(*) as c from pg_largeobject_metadata'))[0]!.c);
  return out;
}

interface SnapshotJson {
  id: string;
  snapshot: { parent: string | null; source: { type: string; databases: string[] }; paths: string[]; summary: { storedBytes: number; bytes: number } };
  sites: { site: string; state: string }[];
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-pg-source-'));
  serverUrl = new URL(inject('georepPostgresUrl'));
  const name = `cases_${randomBytes(4).toString('hex')}`;
  sourceUrl = await createDatabase(serverUrl.toString(), name);
  await query(serverUrl.toString(), `do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'georep_dump') then create role georep_dump login superuser; end if;
    end $$; alter role georep_dump password '${PASSWORD}'`);
  const u = new URL(sourceUrl);
  await run(pgBin('pgbench'), ['-i', '-s', '20', '-I', 'dtGp', '-q', '-h', u.hostname, '-p', u.port, '-U', decodeURIComponent(u.username), name], {
    timeout: 120_000,
  });
  await query(
    sourceUrl,
    `create table shelters (id serial primary key, photo bytea not null, capacity jsonb not null);
     insert into shelters (photo, capacity)
       select decode(md5(g::text) || md5((g * 7)::text), 'hex'), jsonb_build_object('beds', g % 300, 'open', g % 5 <> 0)
       from generate_series(1, 3000) g;
     create table "Case Notes" (id int primary key, note json);
     insert into "Case Notes" select g, json_build_object('text', repeat('flood ', g % 40)) from generate_series(1, 500) g;
     create table shelter_maps (id int primary key, map oid);
     insert into shelter_maps values (1, lo_from_bytea(0, decode(repeat('00ff', 100000), 'hex')));`,
  );
  const sites = await Promise.all(cephSites(3).map((s, i) => bucketSite(s, `pg${i}`)));
  env = {
    GEOREP_HOME: path.join(tmp, 'home'),
    GEOREP_PASSWORD: `repo-${randomBytes(6).toString('hex')}`,
    CASES_DB: withRole(name),
    RESTORED_DB: withRole(`restored_${randomBytes(3).toString('hex')}`),
    SITE_URLS: sites.map((s) => s.url).join(','),
    ...Object.assign({}, ...sites.map((s) => s.env)),
  };
  await ok(['init', '--site', sites[0]!.url, ...FAST_KDF]);
}, 180_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('PostgreSQL as a dataset source', () => {
  let first: SnapshotJson;

  it('dumps the database into a snapshot shipped to three sites, with row counts from the same snapshot', async () => {
    const r = await ok(['snapshot', '--postgres', 'env:CASES_DB', '--to', env.SITE_URLS!, '--json']);
    first = JSON.parse(r.stdout) as SnapshotJson;
    expect(first.sites.map((s) => s.state)).toEqual(['committed', 'committed', 'committed']);
    expect(first.snapshot.source.type).toBe('postgres');
    expect(first.snapshot.paths[0]).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/cases_/);
    expect(first.snapshot.summary.bytes).toBeGreaterThan(100 * 1024 * 1024);

    const out = path.join(tmp, 'files');
    await ok(['restore', first.id, '--to', out, '--site', env.SITE_URLS!.split(',')[2]!]);
    const db = new URL(sourceUrl).pathname.slice(1);
    const meta = JSON.parse(await readFile(path.join(out, `${db}.meta.json`), 'utf8')) as {
      serverVersion: string;
      databaseSizeBytes: number;
      consistency: string;
      tables: { schema: string; name: string; rows: number }[];
      largeObjects: number;
    };
    expect(meta.consistency).toBe('exported-snapshot');
    expect(meta.databaseSizeBytes).toBeGreaterThan(0);
    expect(meta.serverVersion).toMatch(/^\d+/);
    const recorded = Object.fromEntries(meta.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
    expect(recorded['public.pgbench_accounts']).toBe(2_000_000);
    expect({ ...recorded, largeObjects: meta.largeObjects }).toEqual(await rowCounts(sourceUrl));
    const dump = await readFile(path.join(out, `${db}.dump`));
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP');

    // pg_restore, fed from the repository, into a database it creates.
    await ok(['restore', first.id, '--postgres-target', 'env:RESTORED_DB', '--site', env.SITE_URLS!.split(',')[1]!]);
    const restored = await rowCounts(env.RESTORED_DB!);
    expect(restored).toEqual({ ...recorded, largeObjects: meta.largeObjects });
    const lo = await query<{ n: number }>(env.RESTORED_DB!, 'select length(lo_get(map)) as n from shelter_maps');
    expect(lo[0]!.n).toBe(200_000);
    // A database that is not empty is refused without --clean, and restored over with it.
    const refused = await ok(['restore', first.id, '--postgres-target', 'env:RESTORED_DB', '--site', env.SITE_URLS!.split(',')[1]!], 2);
    expect(refused.stderr).toContain('is not empty');
    await ok(['restore', first.id, '--postgres-target', 'env:RESTORED_DB', '--clean', '--site', env.SITE_URLS!.split(',')[0]!]);
    expect(await rowCounts(env.RESTORED_DB!)).toEqual(restored);
  }, 300_000);

  it('stores well under half the bytes of the first snapshot after 5% of the rows change', async () => {
    // Recent cases are the ones updated: 100,000 of 2,000,000 accounts, a contiguous range.
    await query(sourceUrl, 'update pgbench_accounts set abalance = abalance + 7 where aid <= 100000');
    // This time by contract: the source is the contract's, by reference.
    const urls = env.SITE_URLS!.split(',');
    for (const [i, name] of ['pg-a', 'pg-b', 'pg-c'].entries()) {
      await ok(['site', 'add', name, urls[i]!, '--region', `r${i}`, '--lat', String(30 + i), '--lon', '104', '--jurisdiction', 'CN', '--no-probe']);
    }
    const contract = path.join(tmp, 'cases.yaml');
    await writeFile(
      contract,
      [
        'contract: cases-db',
        'dataset: { name: cases, source: { type: postgres, url: env:CASES_DB } }',
        'schedule: "0 * * * *"',
        'rpo: 2h',
        'copies: 3',
        'placement: { sites: [pg-a, pg-b, pg-c] }',
        'retention: { last: 3 }',
        'verify:',
        '  checks:',
        '    - { sql: "select count(*) from pgbench_accounts", expect: 2000000 }',
        '    - { sql: "select sum(abalance) from pgbench_accounts", expect: 700000 }',
        "    - { sql: \"select count(*) from shelters where (capacity->>'open')::boolean\", expect: 2400 }",
        '    - { sql: "select length(lo_get(map)) from shelter_maps", expect: 200000 }',
        '',
      ].join('\n'),
    );
    await ok(['policy', 'apply', contract]);
    const r = await ok(['snapshot', '--contract', 'cases-db', '--json']);
    const second = JSON.parse(r.stdout) as SnapshotJson;
    expect(second.sites.map((s) => s.state)).toEqual(['committed', 'committed', 'committed']);
    expect(second.snapshot.parent).toBe(first.id);
    expect(second.snapshot.summary.storedBytes).toBeLessThan(first.snapshot.summary.storedBytes / 2);
    console.log(`postgres source: first snapshot stored ${first.snapshot.summary.storedBytes} bytes, after 5% changed ${second.snapshot.summary.storedBytes}`);
  }, 300_000);

  it('a drill restores the newest snapshot into a scratch database where the row counts and checks match', async () => {
    const scratch = async (): Promise<string[]> =>
      (await query<{ d: string }>(serverUrl.toString(), "select datname as d from pg_database where datname like 'georep\\_drill\\_%'")).map((r) => r.d);
    expect(await scratch()).toEqual([]);
    const r = await ok(['drill', '--contract', 'cases-db', '--site', 'pg-c', '--json']);
    const d = (JSON.parse(r.stdout) as { drills: { outcome: string; failures: unknown[]; files: number; bytes: number; totalMs: number }[] }).drills[0]!;
    expect(d.failures).toEqual([]);
    expect(d.outcome).toBe('passed');
    expect(d.files).toBe(1);
    expect(d.bytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(await scratch()).toEqual([]);
    console.log(`postgres source: drill of the pgbench -s 20 database took ${d.totalMs} ms`);
  }, 300_000);

  it('never shows the password', () => {
    for (const text of cliOutput) expect(text).not.toContain(PASSWORD);
  });
});
