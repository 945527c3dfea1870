// One database drill at one site: each database of a PostgreSQL snapshot is restored from that
// site alone (no failover) with pg_restore into a fresh scratch database (scratch-db.ts), its row
// counts and large objects are compared with those the snapshot recorded (`<database>.meta.json`),
// and the contract's SQL checks run in it (db-compare.ts); the verdict is the folders' (verdict.ts)
// and every scratch database is dropped whatever happened (unless --keep).
//
// Times (injected Clock), from before the site is opened, like a folder drill:
// - first byte: when the first dump bytes were written into pg_restore's stdin;
// - total: until the last check finished (a database is usable once it restored and is checked;
//   dropping the scratch databases is not counted).
// Figures: files = databases restored, bytes = dump bytes piped into pg_restore.
import type pg from 'pg';
import type { DrillFailure } from '../../catalog/queries/drills.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError, GeorepError } from '../../core/errors.ts';
import type { DrillCheck } from '../../policies/contract.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { isSiteFailure } from '../../repository/failover-reader.ts';
import { escapeName } from '../../repository/source-names.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64, SnapshotManifest, TreeNode } from '../../repository/types.ts';
import { SiteError } from '../../sites/errors.ts';
import { describeTarget, quoteIdent, type Env, type PgTarget } from '../../sites/postgres/connection.ts';
import { connectPostgres, restorePostgres } from '../restore/postgres-restore.ts';
import { checkFailure, checkProblem, compareCounts, type DatabaseCounts } from './db-compare.ts';
import type { DrillSiteResult, DrillSource } from './drill-site.ts';
import { createScratch, type ScratchDatabase } from './scratch-db.ts';
import { drillVerdict } from './verdict.ts';

export interface DrillPostgresOptions {
  open(): Promise<DrillSource>;
  snapshot: Hex64;
  clock: Clock;
  rtoMs: number | null;
  /** The server scratch databases are made on (the contract's source server), credentials resolved. */
  server: PgTarget;
  checks: readonly DrillCheck[];
  /** Where pg_restore is. */
  binDir: string;
  env: Env;
  /** Leave the scratch databases for inspection. */
  keep?: boolean;
}

/** How long one check may run before it counts as failed. */
const CHECK_TIMEOUT = '5min';

export async function drillPostgresSite(options: DrillPostgresOptions): Promise<DrillSiteResult> {
  const { clock } = options;
  const scratches: ScratchDatabase[] = [];
  let source: DrillSource | undefined;
  try {
    const started = clock.nowMs();
    let manifest: SnapshotManifest;
    try {
      source = await options.open();
      manifest = validateSnapshot(await source.repo.loadObject('snapshot', options.snapshot), `snapshots/${options.snapshot}`);
    } catch (err) {
      if (!isSiteFailure(err)) throw err;
      const verdict = drillVerdict([{ kind: 'site', message: describeError(err) }], null, options.rtoMs);
      return { ...verdict, firstByteMs: null, totalMs: clock.nowMs() - started, bytes: null, files: null, sandbox: null };
    }
    if (manifest.source.type !== 'postgres') {
      throw new GeorepError('DRILL_SOURCE', `snapshot ${options.snapshot.slice(0, 12)} is of a ${manifest.source.type}, not a PostgreSQL database`);
    }
    const databases = manifest.source.databases;
    const failures: DrillFailure[] = source.indexProblems.map((p) => ({ kind: 'restore', message: `index object ${p.id} skipped: ${p.message}` }));
    const reader = new BlobReader(source.repo, source.index);
    let firstByteMs: number | null = null;
    let bytes = 0;
    let restored = 0;
    for (const [i, check] of options.checks.entries()) {
      if (check.database !== undefined && !databases.includes(check.database)) {
        failures.push(checkFailure(i, check, check.database, `the snapshot holds no database ${JSON.stringify(check.database)} (it holds ${databases.join(', ')})`));
      }
    }
    for (const database of databases) {
      let recorded: DatabaseCounts;
      try {
        recorded = await readMeta(reader, manifest, database);
      } catch (err) {
        // Unreadable is the site's failure (outcome error); damaged or missing is data that is wrong.
        failures.push({ kind: err instanceof SiteError ? 'site' : 'restore', path: database, message: describeError(err) });
        continue;
      }
      const scratch = await createScratch(options.server);
      scratches.push(scratch);
      try {
        const result = await restorePostgres({
          reader,
          manifest,
          target: scratch.target,
          database,
          clean: false,
          // The scratch belongs to the drill's role; the dump's roles need not exist to check data.
          noOwner: true,
          binDir: options.binDir,
          env: options.env,
          onProgress: (done) => {
            if (firstByteMs === null && done > 0) firstByteMs = clock.nowMs() - started;
          },
        });
        bytes += result.bytes;
        restored++;
      } catch (err) {
        // Data that could not be read or did not restore is the drill's finding; anything else
        // (the scratch server unreachable) means the drill could not run, and goes up.
        if (!isSiteFailure(err) && !(err instanceof GeorepError && err.code === 'PG_RESTORE_FAILED')) throw err;
        failures.push({ kind: err instanceof SiteError ? 'site' : 'restore', path: database, message: describeError(err) });
        continue;
      }
      const client = await connectPostgres(scratch.target);
      try {
        failures.push(...compareCounts(database, recorded, await countRows(client)));
        for (const [i, check] of options.checks.entries()) {
          if ((check.database ?? databases[0]) !== database) continue;
          const problem = await runCheck(client, check);
          if (problem !== null) failures.push(checkFailure(i, check, database, problem));
        }
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    const totalMs = clock.nowMs() - started;
    const verdict = drillVerdict(failures, totalMs, options.rtoMs);
    return {
      ...verdict,
      firstByteMs,
      totalMs,
      bytes,
      files: restored,
      sandbox: options.keep ? scratches.map((s) => describeTarget(s.target)).join(', ') || null : null,
    };
  } finally {
    await source?.close().catch(() => undefined);
    if (!options.keep) {
      const problems: string[] = [];
      for (const s of scratches) await s.drop().catch((err: unknown) => problems.push(describeError(err)));
      if (problems.length > 0) {
        // A scratch database left on a production server must be loud, even over the result.
        throw new GeorepError('DRILL_SCRATCH', `could not drop the drill's scratch database: ${problems.join('; ')}`, {
          hint: `drop it by hand (its name starts georep_drill_) on ${describeTarget(options.server)}`,
        });
      }
    }
  }
}

/** The counts `<database>.meta.json` recorded, read from the snapshot and checked for shape. */
async function readMeta(reader: BlobReader, manifest: SnapshotManifest, database: string): Promise<DatabaseCounts> {
  const name = Buffer.concat([escapeName(database), Buffer.from('.meta.json')]);
  const root = await reader.readTree(manifest.tree);
  const node: TreeNode | undefined = root.nodes.find((n) => n.name.equals(name));
  if (node?.type !== 'file') throw new GeorepError('DRILL_META', `the snapshot's root folder has no ${name.toString()}`);
  const parts: Buffer[] = [];
  for (const id of node.content ?? []) parts.push(await reader.readBlob(id));
  let meta: unknown;
  try {
    meta = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch (err) {
    throw new GeorepError('DRILL_META', `${name.toString()} is not JSON: ${describeError(err)}`);
  }
  const m = meta as { tables?: unknown; largeObjects?: unknown };
  const tables = Array.isArray(m.tables) ? (m.tables as { schema?: unknown; name?: unknown; rows?: unknown }[]) : undefined;
  if (
    tables === undefined ||
    !Number.isInteger(m.largeObjects) ||
    !tables.every((t) => typeof t.schema === 'string' && typeof t.name === 'string' && Number.isInteger(t.rows))
  ) {
    throw new GeorepError('DRILL_META', `${name.toString()} does not hold tables [{schema, name, rows}] and largeObjects`);
  }
  return { tables: tables.map((t) => ({ schema: t.schema as string, name: t.name as string, rows: t.rows as number })), largeObjects: m.largeObjects as number };
}

/** Every ordinary table's rows and the large objects, as the snapshot counted them (replicator/sources/postgres/meta.ts). */
async function countRows(client: pg.Client): Promise<DatabaseCounts> {
  const list = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
      order by 1, 2`,
  );
  const tables = [];
  for (const t of list.rows) {
    const r = await client.query<{ n: string }>(`select count(*)::text as n from ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
    tables.push({ schema: t.schema, name: t.name, rows: Number(r.rows[0]!.n) });
  }
  const lo = await client.query<{ n: string }>('select count(*)::text as n from pg_largeobject_metadata');
  return { tables, largeObjects: Number(lo.rows[0]!.n) };
}

/** Runs one check read-only, answers as PostgreSQL's text forms; an SQL error is the check's problem. */
async function runCheck(client: pg.Client, check: DrillCheck): Promise<string | null> {
  await client.query('begin read only');
  try {
    await client.query(`set local statement_timeout = '${CHECK_TIMEOUT}'`);
    const r = await client.query<unknown[]>({
      text: check.sql,
      rowMode: 'array',
      // The extended protocol takes one statement: `...; commit; drop ...` cannot leave read-only.
      queryMode: 'extended',
      // Every value as the server's text: what a string `expect` is compared with.
      types: { getTypeParser: () => (value: string) => value },
    } as pg.QueryArrayConfig);
    return checkProblem(check, r.rows as (string | null)[][]);
  } catch (err) {
    return `the query failed: ${(err as Error).message}`;
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
}
