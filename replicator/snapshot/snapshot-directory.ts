// Snapshot of a directory tree into one repository: walk, chunk, dedup, compress, encrypt, pack,
// store; the index objects of the new packs once those are stored (run-index.ts); then, last,
// the snapshot manifest (commit last: a manifest never names an object that is not stored yet).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { UsageError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64, PackDescription, SnapshotManifest } from '../../repository/types.ts';
import { ChangeCache } from './change-cache.ts';
import { ChunkerPool } from './chunker-pool.ts';
import { freeNow } from '../../core/gc.ts';
import { KnownFilter } from './known-filter.ts';
import type { KnownBlobs } from './known-blobs.ts';
import { RunIndex, type StoredPack } from './run-index.ts';
import type { PageOptions } from '../../repository/tree-pages.ts';
import { TreeStore } from './tree-store.ts';
import { TreeBuilder, type WalkProblem, type WalkStats } from './tree-builder.ts';

export interface SnapshotDirectoryOptions {
  repo: Repository;
  /**
   * The repository's blobs, loaded (a MasterIndex, or SpilledIds, whose memory does not grow with
   * them); new packs are added as they are stored.
   */
  index: KnownBlobs;
  /** Absolute path of the folder to snapshot. */
  source: string;
  /** Where the local change cache lives. */
  cacheDir: string;
  clock: Clock;
  host: string;
  user: string;
  tags?: string[];
  parent?: Hex64 | null;
  program: string;
  workers?: number;
  /** Lowers the bound of one tree blob, so that tests can page folders of a few thousand files. */
  treePages?: PageOptions;
  /** After each file; `current` is its path's bytes (decoded only by a consumer that shows it). */
  onProgress?(stats: Readonly<WalkStats>, current: Buffer): void;
  /** Where a damaged change cache is reported (it is then ignored: files are read again). */
  logger?: Logger;
}

export interface SnapshotDirectoryResult {
  id: Hex64;
  manifest: SnapshotManifest;
  /** Files and folders that could not be read or changed while read: reported, not fatal. */
  problems: WalkProblem[];
  /** The packs this run stored (their blobs are in the index and its index objects). */
  packs: StoredPack[];
  stats: WalkStats;
}

export async function snapshotDirectory(options: SnapshotDirectoryOptions): Promise<SnapshotDirectoryResult> {
  const { repo, index, clock } = options;
  const source = path.resolve(options.source);
  const info = await stat(source).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new UsageError(`snapshot source ${source} is not a readable directory`);
  }
  const time = clock.now().toISOString();
  const cache = await ChangeCache.load(options.cacheDir, repo.config.id, source, (message) => options.logger?.warn(message));
  try {
    // Index objects are written as packs are stored, a bounded number of blobs each (run-index.ts).
    const runIndex = new RunIndex(repo);
    const storePack = async (bytes: Uint8Array, description: PackDescription): Promise<void> => {
      await repo.savePackAs(description.id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      index.addPack(description);
      // Stored: the pack's buffer (a pack writer's own, from a worker or the tree store) is free
      // now rather than at the next full collection of this thread's large heap.
      freeNow(bytes.buffer);
      await runIndex.add(description);
    };

    const trees = new TreeStore(repo, index, storePack, options.treePages);
    const known = KnownFilter.forCount(index.blobCount);
    for (const id of index.blobIds()) known.add(id);
    const pool = new ChunkerPool(
      {
        rootKey: repo.key.exportRaw(),
        repositoryId: repo.config.id,
        chunker: repo.config.chunker,
        packSize: repo.config.packSize,
        known,
      },
      { isKnown: (id) => index.has(id), storePack },
      options.workers,
    );
    try {
      const builder = new TreeBuilder({
        pool,
        cache,
        isKnown: (id) => index.has(id) || trees.has(id),
        storeTree: (nodes) => trees.store(nodes),
        onProgress: options.onProgress,
      });
      const tree = await builder.buildDir(Buffer.from(source));
      await pool.flush();
      await trees.flush();
      await runIndex.flush();
      const manifest: SnapshotManifest = {
        version: 1,
        time,
        host: options.host,
        user: options.user,
        paths: [source],
        tags: options.tags ?? [],
        tree,
        parent: options.parent ?? null,
        source: { type: 'directory' },
        summary: {
          files: builder.stats.files,
          dirs: builder.stats.dirs,
          bytes: builder.stats.bytes,
          newBytes: builder.stats.newBytes,
          storedBytes: runIndex.storedBytes,
        },
        program: options.program,
      };
      const id = await repo.saveObject('snapshot', manifest);
      await cache.save();
      return { id, manifest, problems: builder.problems, packs: runIndex.packs, stats: builder.stats };
    } finally {
      await pool.close();
    }
  } finally {
    await cache.close();
  }
}
