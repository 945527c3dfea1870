// A snapshot whose files come from streams rather than a folder (a database dump, a bucket's
// objects): the same trees, packs, index object and manifest as snapshot-directory.ts, in the
// same order (data and tree packs, each index object once its packs are stored, then, last,
// the manifest), so every reader (ls, diff, restore, verify, prune, ship) handles it unchanged.
import type { Clock } from '../../core/clock.ts';
import { GcHint } from '../../core/gc.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64, PackDescription, SnapshotManifest, SnapshotSource, TreeNode } from '../../repository/types.ts';
import { StreamChunker, type ChunkedStream } from './stream-chunker.ts';
import type { PageOptions } from '../../repository/tree-pages.ts';
import { TreeStore } from './tree-store.ts';
import type { KnownBlobs } from './known-blobs.ts';
import { RunIndex, type StoredPack } from './run-index.ts';

export interface StreamSnapshotOptions {
  repo: Repository;
  /** The repository's index, loaded; new packs are added to it as they are stored. */
  index: KnownBlobs;
  clock: Clock;
  /** Lowers the bound of one tree blob, so that tests can page folders of a few thousand entries. */
  treePages?: PageOptions;
}

export interface ManifestFields {
  host: string;
  user: string;
  tags?: string[];
  parent?: Hex64 | null;
  program: string;
  /** Where the data came from, without credentials (FORMAT.md section 7). */
  paths: string[];
  source: SnapshotSource;
  files: number;
  dirs: number;
}

export interface StreamSnapshotResult {
  id: Hex64;
  manifest: SnapshotManifest;
  /** The packs this run stored (their blobs are in the index and its index objects). */
  packs: StoredPack[];
}

export class StreamSnapshot {
  readonly time: string;
  /** Index objects are written as packs are stored, a bounded number of blobs each (run-index.ts). */
  private readonly runIndex: RunIndex;
  private readonly repo: Repository;
  private readonly index: KnownBlobs;
  private readonly chunker: StreamChunker;
  private readonly trees: TreeStore;
  private bytes = 0;
  private newBytes = 0;

  constructor(options: StreamSnapshotOptions) {
    const { repo, index } = options;
    this.repo = repo;
    this.index = index;
    this.time = options.clock.now().toISOString();
    const gcHint = new GcHint(32 * 1024 * 1024);
    const runIndex = (this.runIndex = new RunIndex(repo));
    const storePack = async (bytes: Uint8Array, description: PackDescription): Promise<void> => {
      await repo.savePackAs(description.id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      index.addPack(description);
      gcHint.allocated(bytes.byteLength);
      await runIndex.add(description);
    };
    this.trees = new TreeStore(repo, index, storePack, options.treePages);
    this.chunker = new StreamChunker({
      key: repo.key,
      chunker: repo.config.chunker,
      packSize: repo.config.packSize,
      isKnown: (id) => index.has(id) || this.trees.has(id),
      storePack,
    });
  }

  /** Chunks and stores one file's bytes, as they stream; counted in the summary. */
  async addStream(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ChunkedStream> {
    const chunked = await this.chunker.chunk(stream);
    this.bytes += chunked.size;
    this.newBytes += chunked.newBytes;
    return chunked;
  }

  /** As addStream(), for bytes already in memory (small files: metadata, sidecars). */
  addBytes(bytes: Uint8Array): Promise<ChunkedStream> {
    return this.addStream([bytes]);
  }

  /** True when the repository, or this run, holds the blob. */
  isKnown(id: Hex64): boolean {
    return this.index.has(id) || this.chunker.has(id) || this.trees.has(id);
  }

  /** Stores one folder's tree; returns its id. */
  storeTree(nodes: TreeNode[]): Promise<Hex64> {
    return this.trees.store(nodes);
  }

  /** Bytes of file data a reused blob brings in, as if streamed (S3 objects unchanged since the parent). */
  countReused(size: number): void {
    this.bytes += size;
  }

  /** Stores the last packs, then the index object of those not yet described, then, last, the manifest. */
  async commit(tree: Hex64, fields: ManifestFields): Promise<StreamSnapshotResult> {
    await this.chunker.flush();
    await this.trees.flush();
    await this.runIndex.flush();
    const manifest: SnapshotManifest = {
      version: 1,
      time: this.time,
      host: fields.host,
      user: fields.user,
      paths: fields.paths,
      tags: fields.tags ?? [],
      tree,
      parent: fields.parent ?? null,
      source: fields.source,
      summary: {
        files: fields.files,
        dirs: fields.dirs,
        bytes: this.bytes,
        newBytes: this.newBytes,
        storedBytes: this.runIndex.storedBytes,
      },
      program: fields.program,
    };
    const id = await this.repo.saveObject('snapshot', manifest);
    return { id, manifest, packs: this.runIndex.packs };
  }
}
