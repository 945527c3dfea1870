// Tree blobs are small and made on the main thread; they go to tree packs of their own. A wide
// directory's tree is several blobs (its pages and their list, repository/tree-pages.ts).
import { compressForStorage } from '../../repository/compress.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import type { Repository } from '../../repository/repository.ts';
import { storeTree, type PageOptions } from '../../repository/tree-pages.ts';
import type { Hex64, PackDescription, TreeNode } from '../../repository/types.ts';
import type { KnownBlobs } from './known-blobs.ts';

/**
 * Stores a finished pack. It resolves only once the pack is stored and its blobs are in the index
 * that the caller's isKnown consults: the run then forgets them (it remembers only the blobs of
 * packs in flight), so each is still stored once.
 */
export type StorePack = (bytes: Uint8Array, description: PackDescription) => Promise<void>;

/**
 * Tree packs are finished at this size, not the repository's pack size. A tree pack is filled on
 * the main thread, in one buffer: aiming at 16 MiB, it grew by copies (12 and 18 MiB at once) and
 * was held whole while stored, but only in runs with more than a few MiB of trees, so a run of
 * 200,000 files held more than one of 20,000. With 4 MiB (allocated whole, so never copied) the
 * bench's scale-10 full snapshot peaked at 242 MiB against 255-259, the incremental at 252
 * against 257-261 (one run against two). Readers fetch each tree by its own range, so a tree
 * pack's size does not matter to them.
 */
const TREE_PACK_BYTES = 4 * 1024 * 1024;

export class TreeStore {
  private writer: PackWriter;
  /** Trees of this run whose pack is not stored yet (then the index knows them). */
  private readonly claimed = new Set<Hex64>();
  private readonly uploads: Promise<void>[] = [];
  private readonly repo: Repository;
  private readonly index: KnownBlobs;
  private readonly storePack: StorePack;
  private readonly pages: PageOptions;
  private readonly packBytes: number;

  /** `pages` lowers the bound of one tree blob (tests of wide folders); FORMAT.md's by default. */
  constructor(repo: Repository, index: KnownBlobs, storePack: StorePack, pages: PageOptions = {}) {
    this.repo = repo;
    this.index = index;
    this.storePack = storePack;
    this.pages = pages;
    this.packBytes = Math.min(TREE_PACK_BYTES, repo.config.packSize);
    this.writer = this.newWriter();
  }

  has(id: Hex64): boolean {
    return this.claimed.has(id);
  }

  /**
   * Encodes and stores one directory (each blob once per run and repository); returns its tree id.
   * Throws RangeError for nodes no reader would accept.
   */
  store(nodes: TreeNode[]): Promise<Hex64> {
    return storeTree(nodes, (bytes) => Promise.resolve(this.put(bytes)), this.pages);
  }

  private put(bytes: Buffer): Hex64 {
    const id = this.repo.key.blobId(bytes);
    if (this.claimed.has(id) || this.index.has(id)) return id;
    this.claimed.add(id);
    const stored = compressForStorage(bytes);
    this.writer.add(id, stored.bytes, stored.compression, bytes.length);
    if (this.writer.isFull(this.packBytes)) this.ship();
    return id;
  }

  async flush(): Promise<void> {
    if (this.writer.count > 0) this.ship();
    await Promise.all(this.uploads);
  }

  /** Room for a full pack from the start: the buffer is not copied as it grows. */
  private newWriter(): PackWriter {
    return new PackWriter(this.repo.key, 'tree', this.packBytes);
  }

  private ship(): void {
    const { bytes, description } = this.writer.finish();
    this.writer = this.newWriter();
    const upload = this.storePack(bytes, description).then(() => {
      for (const blob of description.blobs) this.claimed.delete(blob.id);
    });
    // Failures surface in flush(); until then the promise must not count as unhandled.
    upload.catch(() => undefined);
    this.uploads.push(upload);
  }
}
