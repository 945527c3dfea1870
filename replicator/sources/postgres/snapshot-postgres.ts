// Snapshot of PostgreSQL databases: per database, a REPEATABLE READ transaction exports its
// snapshot; pg_dump reads that snapshot and its custom-format output is chunked as it streams
// (no temporary file of the dump); meanwhile the rows of every table are counted in the same
// transaction (meta.ts). The snapshot's root tree holds `<database>.dump` and
// `<database>.meta.json` per database (names escaped by repository/source-names.ts), so ls,
// diff, restore, verify, prune and ship treat it like any other tree. Every run dumps again:
// what did not change deduplicates (the dump is written uncompressed for that reason).
import pg from 'pg';
import type { Clock } from '../../../core/clock.ts';
import { GeorepError, UsageError } from '../../../core/errors.ts';
import type { KnownBlobs } from '../../snapshot/known-blobs.ts';
import type { Repository } from '../../../repository/repository.ts';
import { escapeName } from '../../../repository/source-names.ts';
import type { Hex64, TreeNode } from '../../../repository/types.ts';
import { clientConfig, describeTarget, withDatabase, type Env, type PgTarget } from '../../../sites/postgres/connection.ts';
import { exited, makePassfile, pgDumpInvocation, startTool, ToolOutput } from '../../../sites/postgres/tools.ts';
import { StreamSnapshot, type StreamSnapshotResult } from '../../snapshot/stream-snapshot.ts';
import { countRows, encodeMeta, openDumpSnapshot, type DatabaseMeta } from './meta.ts';

export interface SnapshotPostgresOptions {
  repo: Repository;
  index: KnownBlobs;
  clock: Clock;
  /** The server, with the credentials resolved; its database is the default one to dump. */
  target: PgTarget;
  /** Databases to dump, in order; empty: the target's own. */
  databases: string[];
  /** Where pg_dump is (sites/postgres/tools.ts findPgBin). */
  binDir: string;
  /** The environment PATH and HOME are taken from for pg_dump. */
  env: Env;
  host: string;
  user: string;
  tags?: string[];
  parent?: Hex64 | null;
  program: string;
  onProgress?(database: string, bytes: number): void;
}

export interface SnapshotPostgresResult extends StreamSnapshotResult {
  databases: DatabaseMeta[];
}

/** Where a set of databases is, as a snapshot's `paths` (no user, no password). */
export function postgresPaths(target: PgTarget, databases: readonly string[]): string[] {
  return (databases.length === 0 ? [target.database] : databases).map((d) => describeTarget(withDatabase(target, d)));
}

export async function snapshotPostgres(options: SnapshotPostgresOptions): Promise<SnapshotPostgresResult> {
  const databases = options.databases.length === 0 ? [options.target.database] : [...options.databases];
  if (new Set(databases).size !== databases.length) throw new UsageError('a database is named twice');
  const snapshot = new StreamSnapshot({ repo: options.repo, index: options.index, clock: options.clock });
  const mtimeNs = BigInt(Date.parse(snapshot.time)) * 1_000_000n;
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const nodes: TreeNode[] = [];
  const metas: DatabaseMeta[] = [];
  const passfile = await makePassfile(options.target);
  try {
    for (const database of databases) {
      const target = withDatabase(options.target, database);
      const { meta, dump } = await dumpOne(snapshot, target, options.binDir, passfile.file, options, (bytes) =>
        options.onProgress?.(database, bytes),
      );
      const metaFile = await snapshot.addBytes(encodeMeta(meta));
      const name = escapeName(database);
      const file = (suffix: string, c: { content: Hex64[]; size: number }): TreeNode => ({
        name: Buffer.concat([name, Buffer.from(suffix)]),
        type: 'file',
        mode: 0o600,
        ...owner,
        mtimeNs,
        size: c.size,
        content: c.content,
      });
      nodes.push(file('.dump', dump), file('.meta.json', metaFile));
      metas.push(meta);
    }
  } finally {
    await passfile.remove();
  }
  const tree = await snapshot.storeTree(nodes);
  const versions = [...new Set(metas.map((m) => m.serverVersion))];
  const result = await snapshot.commit(tree, {
    host: options.host,
    user: options.user,
    tags: options.tags,
    parent: options.parent,
    program: options.program,
    paths: postgresPaths(options.target, databases),
    source: { type: 'postgres', databases, serverVersion: versions.join(', ') },
    files: nodes.length,
    dirs: 0,
  });
  return { ...result, databases: metas };
}

async function dumpOne(
  snapshot: StreamSnapshot,
  target: PgTarget,
  binDir: string,
  passfile: string | undefined,
  options: SnapshotPostgresOptions,
  onBytes: (bytes: number) => void,
): Promise<{ meta: DatabaseMeta; dump: { content: Hex64[]; size: number } }> {
  const where = describeTarget(target);
  const client = new pg.Client(clientConfig(target));
  client.on('error', () => undefined); // a dropped connection fails the query in flight instead
  try {
    await client.connect();
  } catch (err) {
    throw new GeorepError('PG_CONNECT', `cannot connect to ${where}: ${(err as Error).message}`, {
      hint: 'check the server, the database name and the credentials the reference names',
    });
  }
  try {
    const opened = await openDumpSnapshot(client);
    const tool = pgDumpInvocation(binDir, target, passfile, opened.snapshot, options.env);
    const child = startTool(tool, ['ignore', 'pipe', 'pipe']);
    const output = new ToolOutput(child, target.password);
    const exit = exited(child);
    exit.catch(() => undefined); // awaited below
    try {
      const [dump, rows] = await Promise.all([snapshot.addStream(counting(child.stdout!, onBytes)), countRows(client)]);
      const code = await exit;
      if (code !== 0) {
        throw new GeorepError('PG_DUMP_FAILED', `pg_dump of ${where} failed (exit ${code}): ${output.stderr || 'no message'}`);
      }
      await client.query('COMMIT');
      const meta: DatabaseMeta = {
        database: target.database,
        serverVersion: opened.serverVersion,
        serverVersionNum: opened.serverVersionNum,
        databaseSizeBytes: opened.databaseSizeBytes,
        consistency: 'exported-snapshot',
        ...rows,
      };
      return { meta, dump };
    } catch (err) {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exit.catch(() => undefined);
      if (err instanceof GeorepError) throw err;
      const code = await exit.catch(() => -1);
      const detail = code !== 0 && output.stderr !== '' ? `: pg_dump said: ${output.stderr}` : '';
      throw new GeorepError('PG_DUMP_FAILED', `snapshot of ${where} failed: ${(err as Error).message}${detail}`, { cause: err });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The stream's pieces, reporting the bytes so far (a 'data' listener would switch the stream to flowing mode). */
async function* counting(stream: AsyncIterable<Buffer>, onBytes: (bytes: number) => void): AsyncIterable<Buffer> {
  let bytes = 0;
  for await (const piece of stream) {
    bytes += piece.length;
    onBytes(bytes);
    yield piece;
  }
}
