// What `georep snapshot` can take a snapshot of, as one shape the three ways of running it
// (--site, --to, --contract) share: a folder, PostgreSQL databases, an S3 bucket's objects. Each job
// knows the locations it records as the manifest's `paths` (how its parent is found) and builds
// the snapshot into a repository whose index is loaded.
import os from 'node:os';
import { MasterIndex } from '../repository/index.ts';
import type { Repository } from '../repository/repository.ts';
import type { SnapshotEntry } from '../repository/snapshots.ts';
import type { Hex64, SnapshotManifest, SnapshotSource } from '../repository/types.ts';
import { s3Paths, snapshotS3 } from '../replicator/sources/s3/snapshot-s3.ts';
import type { KnownBlobs } from '../replicator/snapshot/known-blobs.ts';
import { snapshotDirectory } from '../replicator/snapshot/snapshot-directory.ts';
import type { WalkProblem } from '../replicator/snapshot/tree-builder.ts';
import { resolvePostgres } from '../sites/postgres/connection.ts';
import { findPgBin } from '../sites/postgres/tools.ts';
import type { CliContext } from './context.ts';
import { changeCacheDir } from './home.ts';
import type { Progress } from './progress.ts';
import { PROGRAM } from './version.ts';
import { openSourceBucket } from './wiring.ts';

export interface BuildInput {
  repo: Repository;
  /** The repository's blobs: a MasterIndex for a job that reads its parent's blobs (readsParent). */
  index: KnownBlobs;
  parent: SnapshotEntry | undefined;
  tags: string[];
  progress: Progress;
}

export interface BuiltSnapshot {
  id: Hex64;
  manifest: SnapshotManifest;
  /** Parts that could not be read in full: reported, exit 3. */
  problems: WalkProblem[];
}

export interface SnapshotJob {
  sourceType: SnapshotSource['type'];
  /** The manifest's `paths`: where the data is, without credentials. */
  paths: string[];
  /** Reads blobs of its parent snapshot, so it needs the index's locations, not only its ids. */
  readsParent: boolean;
  build(input: BuildInput): Promise<BuiltSnapshot>;
}

/** The newest snapshot of the same source taken from this host, the new one's parent. */
export function findParent(snapshots: readonly SnapshotEntry[], job: SnapshotJob): SnapshotEntry | undefined {
  const host = os.hostname();
  return snapshots
    .filter(
      (s) =>
        s.manifest.host === host &&
        s.manifest.source.type === job.sourceType &&
        job.paths.every((p) => s.manifest.paths.includes(p)),
    )
    .at(-1);
}

const who = (): { host: string; user: string; program: string } => ({ host: os.hostname(), user: os.userInfo().username, program: PROGRAM });

export function directoryJob(ctx: CliContext, source: string): SnapshotJob {
  return {
    sourceType: 'directory',
    readsParent: false,
    paths: [source],
    build: async ({ repo, index, parent, tags, progress }) => {
      const result = await snapshotDirectory({
        repo,
        index,
        source,
        cacheDir: changeCacheDir(ctx.env),
        logger: ctx.logger,
        clock: ctx.clock,
        ...who(),
        tags,
        parent: parent?.id ?? null,
        onProgress: (stats) => progress.update(`${stats.files} files`, stats.bytes, parent?.manifest.summary.bytes),
      });
      return { id: result.id, manifest: result.manifest, problems: result.problems };
    },
  };
}

/** Databases of a server named by reference (env:NAME, file:/path, or a URL without password). */
export async function postgresJob(ctx: CliContext, ref: string, databases: readonly string[]): Promise<SnapshotJob> {
  // Imported here: it brings pg, which a snapshot of anything else does not need to load.
  const { postgresPaths, snapshotPostgres } = await import('../replicator/sources/postgres/snapshot-postgres.ts');
  const target = await resolvePostgres(ref, ctx.env);
  const binDir = await findPgBin(ctx.env);
  return {
    sourceType: 'postgres',
    readsParent: false,
    paths: postgresPaths(target, databases),
    build: async ({ repo, index, parent, tags, progress }) => {
      const result = await snapshotPostgres({
        repo,
        index,
        clock: ctx.clock,
        target,
        databases: [...databases],
        binDir,
        env: ctx.env,
        ...who(),
        tags,
        parent: parent?.id ?? null,
        onProgress: (database, bytes) => progress.update(`dumping ${database}`, bytes),
      });
      for (const meta of result.databases) {
        ctx.logger.info(
          { database: meta.database, serverVersion: meta.serverVersion, tables: meta.tables.length, sizeBytes: meta.databaseSizeBytes },
          'database dumped',
        );
      }
      return { id: result.id, manifest: result.manifest, problems: [] };
    },
  };
}

/**
 * The objects of a bucket under a prefix, named by s3://bucket/prefix?endpoint=...&credentials=env:NAME.
 * Objects unchanged since the parent (same key, size, ETag) are not read (snapshot-s3.ts).
 */
export async function s3Job(ctx: CliContext, url: string): Promise<SnapshotJob> {
  const { bucket, prefix } = await openSourceBucket(url, ctx);
  return {
    sourceType: 's3',
    readsParent: true,
    paths: s3Paths(bucket.bucket, prefix),
    build: async ({ repo, index, parent, tags, progress }) => {
      try {
        if (!(index instanceof MasterIndex)) throw new Error('an S3 source reads its parent snapshot: it needs the full index');
        const result = await snapshotS3({
          repo,
          index,
          clock: ctx.clock,
          bucket,
          prefix,
          ...who(),
          tags,
          parent: parent === undefined ? null : { id: parent.id, manifest: parent.manifest },
          onProgress: (done, listed, bytesRead) => progress.update(`${done}/${listed} objects listed so far, read`, bytesRead),
        });
        ctx.logger.info(
          { bucket: bucket.bucket, prefix, objects: result.objects, read: result.read, reused: result.reused, heads: result.heads, gets: bucket.gets, maxWaiting: result.maxWaiting },
          'bucket snapshotted',
        );
        return { id: result.id, manifest: result.manifest, problems: [] };
      } finally {
        bucket.close();
      }
    },
  };
}
