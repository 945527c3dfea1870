// Snapshot of a directory tree into one repository: walk, chunk, dedup, compress, encrypt, pack,
// store; then the index of the new packs; then, last, the snapshot manifest (commit last: a
// manifest never names an object that is not stored yet).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { UsageError } from '../../core/errors.ts';
import { compressForStorage } from '../../repository/compress.ts';
import { encodeIndex, type MasterIndex } from '../../repository/index.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import type { Repository } from '../../repository/repository.ts';
import { encodeTree } from '../../repository/tree.ts';
import type { Hex64, PackDescription, SnapshotManifest, TreeNode } from '../../repository/types.ts';
import { ChangeCache } from './change-cache.ts';
import { ChunkerPool } from './chunker-pool.ts';
import { freeNow } from '../../core/gc.ts';
import { KnownFilter } from './known-filter.ts';
import { TreeBuilder, type WalkProblem, type WalkStats } from './tree-builder.ts';

export interface SnapshotDirectoryOptions {
  repo: Repository;
  /** The repository's index, loaded; new packs are added to it as they are stored. */
  index: MasterIndex;
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
  onProgress?(stats: Readonly<WalkStats>, current: string): void;
}

export interface SnapshotDirectoryResult {
  id: Hex64;
  manifest: SnapshotManifest;
  /** Files and folders that could not be read or changed while read: reported, not fatal. */
  problems: WalkProblem[];
  packs: PackDescription[];
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
  const cache = await ChangeCache.load(options.cacheDir, repo.config.id, source);
  const newPacks: PackDescription[] = [];
  const storePack = async (bytes: Uint8Array, description: PackDescription): Promise<void> => {
    await repo.savePackAs(description.id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    newPacks.push(description);
    index.addPack(description);
    // Stored: the pack's buffer (a pack writer's own, from a worker or the tree store) is free
    // now rather than at the next full collection of this thread's large heap.
    freeNow(bytes.buffer);
  };

  const trees = new TreeStore(repo, index, storePack);
  const known = KnownFilter.forCount(index.blobCount);
  for (const pack of index.packs()) for (const blob of pack.blobs) known.add(blob.id);
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
    if (newPacks.length > 0) await repo.saveObject('index', encodeIndex(newPacks));
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
        storedBytes: newPacks.reduce((sum, p) => sum + p.size, 0),
      },
      program: options.program,
    };
    const id = await repo.saveObject('snapshot', manifest);
    await cache.save();
    return { id, manifest, problems: builder.problems, packs: newPacks, stats: builder.stats };
  } finally {
    await pool.close();
  }
}

/** Tree blobs are small and made on the main thread; they go to tree packs of their own. */
class TreeStore {
  private writer: PackWriter;
  private readonly claimed = new Set<Hex64>();
  private readonly uploads: Promise<void>[] = [];
  private readonly repo: Repository;
  private readonly index: MasterIndex;
  private readonly storePack: (bytes: Uint8Array, d: PackDescription) => Promise<void>;

  constructor(
    repo: Repository,
    index: MasterIndex,
    storePack: (bytes: Uint8Array, d: PackDescription) => Promise<void>,
  ) {
    this.repo = repo;
    this.index = index;
    this.storePack = storePack;
    this.writer = new PackWriter(repo.key, 'tree');
  }

  has(id: Hex64): boolean {
    return this.claimed.has(id);
  }

  async store(nodes: TreeNode[]): Promise<Hex64> {
    const bytes = encodeTree({ nodes });
    const id = this.repo.key.blobId(bytes);
    if (this.claimed.has(id) || this.index.has(id)) return id;
    this.claimed.add(id);
    const stored = compressForStorage(bytes);
    this.writer.add(id, stored.bytes, stored.compression, bytes.length);
    if (this.writer.size >= this.repo.config.packSize) this.ship();
    return id;
  }

  async flush(): Promise<void> {
    if (this.writer.count > 0) this.ship();
    await Promise.all(this.uploads);
  }

  private ship(): void {
    const { bytes, description } = this.writer.finish();
    this.writer = new PackWriter(this.repo.key, 'tree');
    const upload = this.storePack(bytes, description);
    // Failures surface in flush(); until then the promise must not count as unhandled.
    upload.catch(() => undefined);
    this.uploads.push(upload);
  }
}
