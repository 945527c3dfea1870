// Restores one database of a PostgreSQL snapshot into a server (`georep restore --postgres-target`):
// the `<database>.dump` file's blobs are read in order (each authenticated and id-checked by the
// BlobReader) and piped into pg_restore's stdin, so no copy of the dump touches the disk. The
// target database is created when missing; one that already holds tables or large objects is
// refused unless `clean` (pg_restore --clean --if-exists then drops what the dump recreates).
import { once } from 'node:events';
import pg from 'pg';
import { ConfigError, GeorepError, UsageError } from '../../core/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import { IntegrityError } from '../../repository/errors.ts';
import { escapeName } from '../../repository/source-names.ts';
import type { SnapshotManifest, TreeNode } from '../../repository/types.ts';
import { clientConfig, describeTarget, quoteIdent, withDatabase, type Env, type PgTarget } from '../../sites/postgres/connection.ts';
import { exited, makePassfile, pgRestoreInvocation, startTool, ToolOutput } from '../../sites/postgres/tools.ts';

export interface RestorePostgresOptions {
  reader: BlobReader;
  manifest: SnapshotManifest;
  /** Where to restore: server and database, credentials resolved. */
  target: PgTarget;
  /** Which database of the snapshot; needed when it holds several. */
  database?: string;
  clean: boolean;
  noOwner: boolean;
  binDir: string;
  env: Env;
  /** Blobs read ahead of the one being written. */
  readAhead?: number;
  onProgress?(bytesDone: number, bytesTotal: number): void;
}

export interface RestorePostgresResult {
  /** The snapshot's database that was restored. */
  from: string;
  /** Where it went (no credentials). */
  to: string;
  created: boolean;
  bytes: number;
}

/** The database of a postgres snapshot to restore: the one named, or the only one. */
export function chooseDatabase(manifest: SnapshotManifest, wanted: string | undefined): string {
  const source = manifest.source;
  if (source.type !== 'postgres') {
    throw new UsageError(`the snapshot is of a ${source.type}, not a PostgreSQL database`, { hint: 'restore it with --to <dir>' });
  }
  if (wanted !== undefined) {
    if (!source.databases.includes(wanted)) {
      throw new UsageError(`the snapshot holds no database ${JSON.stringify(wanted)}`, { hint: `it holds: ${source.databases.join(', ')}` });
    }
    return wanted;
  }
  if (source.databases.length > 1) {
    throw new UsageError(`the snapshot holds ${source.databases.length} databases: name one with --database`, {
      hint: `it holds: ${source.databases.join(', ')}`,
    });
  }
  return source.databases[0]!;
}

export async function restorePostgres(options: RestorePostgresOptions): Promise<RestorePostgresResult> {
  const from = chooseDatabase(options.manifest, options.database);
  const dumpName = Buffer.concat([escapeName(from), Buffer.from('.dump')]);
  const root = await options.reader.readTree(options.manifest.tree);
  const node = root.nodes.find((n) => n.name.equals(dumpName));
  if (node?.type !== 'file' || node.content === undefined) {
    throw new IntegrityError(`the snapshot's root folder has no ${dumpName.toString()} for database ${JSON.stringify(from)}`);
  }
  const created = await prepareDatabase(options.target, options.clean);
  const passfile = await makePassfile(options.target);
  try {
    const tool = pgRestoreInvocation(options.binDir, options.target, passfile.file, { clean: options.clean, noOwner: options.noOwner }, options.env);
    const child = startTool(tool, ['pipe', 'ignore', 'pipe']);
    const output = new ToolOutput(child, options.target.password);
    const exit = exited(child);
    exit.catch(() => undefined);
    const stdin = child.stdin!;
    stdin.on('error', () => undefined); // EPIPE when pg_restore stops early: its exit code says why
    let bytes = 0;
    try {
      bytes = await pipeContent(options, node, async (piece) => {
        if (child.exitCode !== null || stdin.destroyed) throw new GeorepError('PG_RESTORE_FAILED', 'pg_restore stopped reading');
        if (!stdin.write(piece)) await Promise.race([once(stdin, 'drain'), exit]);
      });
      stdin.end();
    } catch (err) {
      stdin.destroy();
      const code = await exit.catch(() => -1);
      if (code !== 0 && output.stderr !== '') {
        throw new GeorepError('PG_RESTORE_FAILED', `pg_restore into ${describeTarget(options.target)} failed (exit ${code}): ${output.stderr}`);
      }
      throw err;
    }
    const code = await exit;
    if (code !== 0) {
      throw new GeorepError('PG_RESTORE_FAILED', `pg_restore into ${describeTarget(options.target)} failed (exit ${code}): ${output.stderr || 'no message'}`);
    }
    return { from, to: describeTarget(options.target), created, bytes };
  } finally {
    await passfile.remove();
  }
}

/** Reads the file's blobs in order, a few ahead, and hands each to `write`; returns the bytes. */
async function pipeContent(options: RestorePostgresOptions, node: TreeNode, write: (piece: Buffer) => Promise<void>): Promise<number> {
  const ids = node.content!;
  const ahead = Math.max(1, options.readAhead ?? 4);
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  let done = 0;
  const fill = (): void => {
    while (next < ids.length && pending.length < ahead) {
      const p = options.reader.readBlob(ids[next++]!);
      p.catch(() => undefined); // awaited in order below
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const piece = await pending.shift()!;
    fill();
    await write(piece);
    done += piece.length;
    options.onProgress?.(done, node.size ?? done);
  }
  if (done !== node.size) throw new IntegrityError(`the dump is ${done} bytes, its tree says ${node.size}`);
  return done;
}

/**
 * Creates the target database when missing (from template0, as pg_restore wants); refuses one
 * that holds tables, views, sequences or large objects unless `clean`. True when created.
 */
async function prepareDatabase(target: PgTarget, clean: boolean): Promise<boolean> {
  const where = describeTarget(target);
  const maintenance = target.database === 'postgres' ? 'template1' : 'postgres';
  const admin = await connectPostgres(withDatabase(target, maintenance));
  let created = false;
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [target.database]);
    if (found.rowCount === 0) {
      await admin.query(`create database ${quoteIdent(target.database)} template template0`);
      created = true;
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
  if (created) return true;
  const db = await connectPostgres(target);
  try {
    const r = await db.query<{ n: string }>(
      `select ((select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                  and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%')
             + (select count(*) from pg_largeobject_metadata))::text as n`,
    );
    const objects = Number(r.rows[0]!.n);
    if (objects > 0 && !clean) {
      throw new ConfigError(`database ${where} is not empty (${objects} tables, views, sequences or large objects)`, {
        hint: 'restore into a new database name, or add --clean to drop and recreate what the dump holds',
      });
    }
  } finally {
    await db.end().catch(() => undefined);
  }
  return false;
}

/** A connected client; a refused connection is a PG_CONNECT error naming the target (never its password). */
export async function connectPostgres(target: PgTarget): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(target));
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new GeorepError('PG_CONNECT', `cannot connect to ${describeTarget(target)}: ${(err as Error).message}`, {
      hint: 'check the server, the database name and the credentials the reference names',
    });
  }
  return client;
}
