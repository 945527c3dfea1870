// What a database snapshot records beside its dump (`<database>.meta.json`): the server's version,
// the database's size, and the row count of every table and the number of large objects, all read
// in the REPEATABLE READ transaction whose exported snapshot pg_dump reads (dump.ts), so the
// counts describe exactly the rows in the dump, not the rows a moment before or after it. A
// restore drill compares a restored database against these counts.
import type pg from 'pg';
import { quoteIdent } from '../../../sites/postgres/connection.ts';

export interface TableRows {
  schema: string;
  name: string;
  rows: number;
}

export interface DatabaseMeta {
  database: string;
  /** `SHOW server_version`, e.g. "15.10 (Debian 15.10-0+deb12u1)". */
  serverVersion: string;
  serverVersionNum: number;
  /** pg_database_size(): on-disk size, indexes and bloat included (not the dump's size). */
  databaseSizeBytes: number;
  /** How the counts relate to the dump: taken in the snapshot pg_dump read. */
  consistency: 'exported-snapshot';
  /** Every ordinary table (partitions are counted as their leaves), by schema and name. */
  tables: TableRows[];
  largeObjects: number;
}

export interface OpenedSnapshot {
  /** pg_export_snapshot(): what `pg_dump --snapshot` imports. */
  snapshot: string;
  serverVersion: string;
  serverVersionNum: number;
  databaseSizeBytes: number;
}

/**
 * Starts the read-only REPEATABLE READ transaction the dump and the counts share, and exports its
 * snapshot. The transaction must stay open until pg_dump has imported the snapshot (it stays open
 * until the counts are done and the dump has ended: commitDump()).
 */
export async function openDumpSnapshot(client: pg.Client): Promise<OpenedSnapshot> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  const r = await client.query<{ snapshot: string; version: string; num: string; size: string }>(
    `select pg_export_snapshot() as snapshot, current_setting('server_version') as version,
            current_setting('server_version_num') as num, pg_database_size(current_database())::text as size`,
  );
  const row = r.rows[0]!;
  return { snapshot: row.snapshot, serverVersion: row.version, serverVersionNum: Number(row.num), databaseSizeBytes: Number(row.size) };
}

/** Counts every table's rows and the large objects, in the open transaction. */
export async function countRows(client: pg.Client): Promise<{ tables: TableRows[]; largeObjects: number }> {
  const list = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
      order by 1, 2`,
  );
  const tables: TableRows[] = [];
  for (const t of list.rows) {
    const r = await client.query<{ n: string }>(`select count(*)::text as n from ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
    tables.push({ schema: t.schema, name: t.name, rows: Number(r.rows[0]!.n) });
  }
  const lo = await client.query<{ n: string }>('select count(*)::text as n from pg_largeobject_metadata');
  return { tables, largeObjects: Number(lo.rows[0]!.n) };
}

/** The meta file's bytes: indented JSON (people read it), fields in a fixed order. */
export function encodeMeta(meta: DatabaseMeta): Buffer {
  const ordered: DatabaseMeta = {
    database: meta.database,
    serverVersion: meta.serverVersion,
    serverVersionNum: meta.serverVersionNum,
    databaseSizeBytes: meta.databaseSizeBytes,
    consistency: meta.consistency,
    tables: meta.tables.map((t) => ({ schema: t.schema, name: t.name, rows: t.rows })),
    largeObjects: meta.largeObjects,
  };
  return Buffer.from(`${JSON.stringify(ordered, null, 2)}\n`, 'utf8');
}
