// Database restore drills on the run's real PostgreSQL server, with two file:// sites: a small
// database (a table the checks query, bytea, jsonb and a large object) is snapshotted by
// contract; a drill restores it from one site into a scratch database on the source server,
// where the recorded row counts and the contract's SQL checks match, and records the drill; a
// contract version whose check expects the wrong value records a failed drill saying which check
// and what it got; a check cannot write or run two statements. The scratch database is dropped
// every time (the server's databases are listed before and after); with --keep it is left,
// holding the restored rows, never the source.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { listDrills, type DrillRecord } from '../../catalog/queries/drills.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';
import { createDatabase } from '../servers/postgres.ts';
import { folderSite } from '../ship/fixtures.ts';

const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
let tmp: string;
let home: string;
let env: Record<string, string>;
let serverUrl: string;
let sourceUrl: string;
let dbName: string;
let contractFile: string;

const ok = async (args: string[], code = 0): Promise<CliResult> => {
  const r = await runCli(args, { env });
  if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
  return r;
};

type DrillJson = DrillRecord & { sandbox: string | null };
const drill = async (args: string[], code = 0): Promise<DrillJson> => {
  const out = JSON.parse((await ok(['drill', '--contract', 'cases-db', '--json', ...args], code)).stdout) as { drills: DrillJson[] };
  expect(out.drills).toHaveLength(1);
  return out.drills[0]!;
};

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const databases = async (): Promise<string[]> =>
  (await query<{ d: string }>(serverUrl, 'select datname as d from pg_database order by 1')).map((r) => r.d);
const scratches = async (): Promise<string[]> => (await databases()).filter((d) => d.startsWith('georep_drill_'));

async function applyContract(openCases: number, extra: string[] = []): Promise<void> {
  await writeFile(
    contractFile,
    [
      'contract: cases-db',
      'dataset: { name: cases, source: { type: postgres, url: env:CASES_DB } }',
      'schedule: "0 * * * *"',
      'rpo: 2h',
      'rto: 1h',
      'copies: 2',
      'placement: { sites: [file-a, file-b] }',
      'retention: { last: 5 }',
      'verify:',
      '  checks:',
      '    - { sql: "select count(*) from cases", expect: 200 }',
      `    - { sql: "select count(*) from cases where status = 'open'", expect: ${openCases} }`,
      "    - { sql: \"select capacity->>'beds' from shelters where id = 7\", expect: '7' }",
      '    - { sql: "select length(lo_get(map)) from shelter_maps", expect: 20000 }',
      ...extra,
      '',
    ].join('\n'),
  );
  await ok(['policy', 'apply', contractFile]);
}

async function withDb<T>(fn: (db: CatalogDb) => Promise<T>): Promise<T> {
  const db = await openCatalog({ home });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'georep-pg-drill-'));
  home = path.join(tmp, 'home');
  serverUrl = inject('georepPostgresUrl');
  dbName = `drillsrc_${randomBytes(4).toString('hex')}`;
  sourceUrl = await createDatabase(serverUrl, dbName);
  await query(
    sourceUrl,
    `create table cases (id int primary key, status text not null);
     insert into cases select g, case when g % 5 = 0 then 'open' else 'closed' end from generate_series(1, 200) g;
     create table shelters (id int primary key, photo bytea not null, capacity jsonb not null);
     insert into shelters select g, decode(md5(g::text), 'hex'), jsonb_build_object('beds', g) from generate_series(1, 50) g;
     create table shelter_maps (id int primary key, map oid);
     insert into shelter_maps values (1, lo_from_bytea(0, decode(repeat('00ff', 10000), 'hex')));`,
  );
  const a = await folderSite(tmp, 'a');
  const b = await folderSite(tmp, 'b');
  env = { GEOREP_HOME: home, GEOREP_PASSWORD: `pw-${randomBytes(6).toString('hex')}`, CASES_DB: sourceUrl };
  await ok(['init', '--site', a.url, ...FAST_KDF]);
  await ok(['site', 'add', 'file-a', a.url, '--region', 'r1', '--lat', '30.6', '--lon', '104.1', '--jurisdiction', 'CN', '--no-probe']);
  await ok(['site', 'add', 'file-b', b.url, '--region', 'r2', '--lat', '34.3', '--lon', '108.9', '--jurisdiction', 'CN', '--no-probe']);
  contractFile = path.join(tmp, 'cases.yaml');
  await applyContract(40);
  const snap = JSON.parse((await ok(['snapshot', '--contract', 'cases-db', '--json'])).stdout) as { sites: { state: string }[] };
  expect(snap.sites.map((s) => s.state)).toEqual(['committed', 'committed']);
}, 120_000);

afterAll(async () => {
  if (serverUrl) for (const d of await scratches().catch(() => [])) await query(serverUrl, `drop database if exists "${d}" with (force)`);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('database drills', () => {
  it('restore into a scratch database where the row counts and checks match, record the drill, drop the scratch', async () => {
    const before = await databases();
    expect(before.filter((d) => d.startsWith('georep_drill_'))).toEqual([]);
    const d = await drill(['--site', 'file-b']);
    expect(d.failures).toEqual([]);
    expect(d.outcome).toBe('passed');
    expect(d.site).toBe('file-b');
    expect(d.files).toBe(1); // one database
    expect(d.bytes).toBeGreaterThan(20_000); // the dump, large object included
    expect(d.firstByteMs).not.toBeNull();
    expect(d.firstByteMs!).toBeLessThanOrEqual(d.totalMs!);
    expect(d.rtoMs).toBe(3_600_000);
    expect(d.sandbox).toBeNull();
    const recorded = await withDb((db) => listDrills(db, { contract: 'cases-db' }));
    expect(recorded.map((r) => [r.id, r.outcome, r.finishedAt !== null])).toEqual([[d.id, 'passed', true]]);
    // Dropped, and nothing else touched: the server holds the same databases (others' tests may add theirs).
    const after = await databases();
    expect(after.filter((x) => x.startsWith('georep_drill_'))).toEqual([]);
    expect(after).toContain(dbName);
    expect((await query<{ n: string }>(sourceUrl, 'select count(*) as n from cases'))[0]!.n).toBe('200');
  }, 120_000);

  it('a check that fails is recorded as a failed drill with the reason, and the scratch is still dropped', async () => {
    await applyContract(120); // wrong: 40 cases are open
    const d = await drill(['--site', 'file-a'], 1);
    expect(d.outcome).toBe('failed');
    expect(d.contractVersion).toBe(2);
    expect(d.failures).toEqual([
      {
        kind: 'check',
        path: dbName,
        message: "check 2 (select count(*) from cases where status = 'open'): expected 120, got 40",
      },
    ]);
    const recorded = await withDb((db) => listDrills(db, { contract: 'cases-db', limit: 1 }));
    expect(recorded[0]!.failures).toEqual(d.failures);
    expect(recorded[0]!.outcome).toBe('failed');
    expect(await scratches()).toEqual([]);
    const text = await ok(['drill', '--contract', 'cases-db', '--site', 'file-a'], 1);
    expect(text.stdout).toContain('drill failed: cases-db at file-a');
    expect(text.stdout).toContain(`1 databases`);
    expect(text.stdout).toContain(`  check ${dbName}: check 2 (select count(*) from cases where status = 'open'): expected 120, got 40`);
    expect(await scratches()).toEqual([]);
  }, 120_000);

  it('a check cannot write or run two statements, and an SQL error fails it with the reason', async () => {
    await applyContract(40, [
      '    - { sql: "select count(*) from nowhere", expect: 0 }',
      '    - { sql: "delete from cases returning 1", expect: 1 }',
      '    - { sql: "select 1; drop table cases", expect: 1 }',
    ]);
    const d = await drill(['--site', 'file-b'], 1);
    expect(d.outcome).toBe('failed');
    expect(d.failures.map((f) => [f.kind, f.message])).toEqual([
      ['check', 'check 5 (select count(*) from nowhere): the query failed: relation "nowhere" does not exist'],
      ['check', 'check 6 (delete from cases returning 1): the query failed: cannot execute DELETE in a read-only transaction'],
      ['check', 'check 7 (select 1; drop table cases): the query failed: cannot insert multiple commands into a prepared statement'],
    ]);
    expect(await scratches()).toEqual([]);
  }, 120_000);

  it('--keep leaves the scratch database, holding the restored rows, for inspection', async () => {
    await applyContract(40);
    const d = await drill(['--site', 'file-a', '--keep']);
    expect(d.outcome).toBe('passed');
    expect(d.sandbox).toMatch(/^postgres:\/\/[^/]+\/georep_drill_[0-9a-f]{16}$/);
    const kept = d.sandbox!.split('/').at(-1)!;
    expect(await scratches()).toEqual([kept]);
    const u = new URL(serverUrl);
    u.pathname = `/${kept}`;
    expect((await query<{ n: string }>(u.toString(), "select count(*) as n from cases where status = 'open'"))[0]!.n).toBe('40');
    await query(serverUrl, `drop database "${kept}" with (force)`);
  }, 120_000);
});
