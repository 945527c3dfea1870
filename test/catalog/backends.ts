// The two catalog backends as test fixtures, so one suite runs unchanged on both:
//
// - postgres: one database per test file on the run's PostgreSQL (test/setup/global.ts), and one
//   schema in it per fresh catalog.
// - pglite: one folder made by initdb once per file (the slow part, seconds), copied for each fresh
//   catalog (a reopen, well under a second).
//
// Everything is removed at the end unless a test failed or KEEP is set: then the database and the
// folders stay, and their names are printed.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { CatalogDb, CatalogKind } from '../../catalog/db.ts';
import { openPglite } from '../../catalog/pglite.ts';
import { openPostgres } from '../../catalog/postgres.ts';
import { createDatabase } from '../servers/postgres.ts';

export interface Backend {
  readonly kind: CatalogKind;
  /** A new, empty catalog of its own. */
  fresh(): Promise<CatalogDb>;
  /**
   * Another handle on the same catalog, as a second daemon would have: a second pool on
   * PostgreSQL; on PGlite, which serves one process, the same handle (closing it does nothing).
   */
  peer(db: CatalogDb): Promise<CatalogDb>;
  /** Connections the backend's server still has open to this file's database (0 for PGlite). */
  openConnections(): Promise<number>;
  /** Where a failing test's data can be looked at. */
  readonly location: string;
  /** Closes what is still open and removes the data, unless keep. */
  dispose(keep: boolean): Promise<void>;
  /** initdb of a new PGlite folder, and opening a copy of it, in ms (PGlite only). */
  readonly timings: { firstOpenMs?: number; reopenMs: number[] };
}

const suffix = (): string => randomBytes(4).toString('hex');

export async function postgresBackend(serverUrl: string): Promise<Backend> {
  const dbName = `catalog_test_${suffix()}`;
  const url = await createDatabase(serverUrl, dbName);
  const opened = new Map<CatalogDb, string>();
  let schemas = 0;
  const open = async (schema: string): Promise<CatalogDb> => {
    const db = await openPostgres(url, { schema });
    opened.set(db, schema);
    return db;
  };
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    kind: 'postgres',
    location: `database ${dbName} on ${serverUrl}`,
    timings: { reopenMs: [] },
    fresh: () => open(`s${++schemas}_${suffix()}`),
    peer: (db) => open(opened.get(db) ?? 'public'),
    openConnections: () =>
      admin(async (client) => {
        const { rows } = await client.query<{ n: string }>(
          'select count(*) as n from pg_stat_activity where datname = $1',
          [dbName],
        );
        return Number(rows[0]?.n ?? 0);
      }),
    async dispose(keep) {
      await Promise.allSettled([...opened.keys()].map((db) => db.close()));
      if (!keep) await admin((client) => client.query(`drop database if exists ${dbName} with (force)`));
    },
  };
}

export async function pgliteBackend(): Promise<Backend> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'georep-test-catalog-'));
  const template = path.join(root, 'template');
  const opened: CatalogDb[] = [];
  const timings: Backend['timings'] = { reopenMs: [] };
  let copies = 0;
  let made: Promise<void> | undefined;
  const makeTemplate = async (): Promise<void> => {
    const t0 = performance.now();
    const db = await openPglite(template);
    timings.firstOpenMs = Math.round(performance.now() - t0);
    await db.close();
  };
  return {
    kind: 'pglite',
    location: `folder ${root}`,
    timings,
    async fresh() {
      await (made ??= makeTemplate());
      const dir = path.join(root, `catalog-${++copies}`);
      await cp(template, dir, { recursive: true });
      const t0 = performance.now();
      const db = await openPglite(dir);
      timings.reopenMs.push(Math.round(performance.now() - t0));
      opened.push(db);
      return db;
    },
    peer: async (db) => ({ ...bind(db), close: async () => undefined }),
    openConnections: async () => 0,
    async dispose(keep) {
      await Promise.allSettled(opened.map((db) => db.close()));
      if (!keep) await rm(root, { recursive: true, force: true });
    },
  };
}

/** The handle's methods bound to it, so they can be spread into a new object. */
function bind(db: CatalogDb): CatalogDb {
  return {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    exec: (script) => db.exec(script),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}
