// The index objects of one run's new packs (FORMAT.md section 5), written as the run goes rather
// than once at its end. Kept whole to the end, the descriptions of a run of many small files grew
// with the file count (~150 B a blob on the heap: 200,000 files, ~30 MiB), and encoding them as
// one object at the end doubled that at the run's peak; the next run then parsed that one object
// whole (a 200,000-blob index: ~120 MiB of heap for a moment). An index object of at most
// INDEX_OBJECT_BLOBS blobs bounds all three. The index is a union of its objects, so readers are
// unchanged; a run of fewer blobs (a 1 GiB folder of 1 MiB chunks) still writes one object.
//
// Contract: add() is called with a pack only once that pack is durably stored, so an index object
// never names a pack that is not at the site. A run that fails after some index objects leaves
// packs that those objects name: the next run deduplicates against them instead of storing their
// chunks again, and prune treats them like any pack no snapshot references.
import type { EncodedIndex } from '../../repository/index.ts';
import { encodeIndex } from '../../repository/index.ts';
import type { BlobType, Hex64, PackDescription } from '../../repository/types.ts';

/** Blobs one index object describes at most (unless one pack alone holds more). */
export const INDEX_OBJECT_BLOBS = 16_384;

/** What a run keeps of a stored pack once its index object is written. */
export interface StoredPack {
  id: Hex64;
  type: BlobType;
  size: number;
  /** Blobs it holds. */
  blobs: number;
}

export interface IndexSaver {
  saveObject(type: 'index', value: EncodedIndex): Promise<Hex64>;
}

export class RunIndex {
  /** Every pack added, in order: a few numbers each, whatever the blob count. */
  readonly packs: StoredPack[] = [];
  private readonly repo: IndexSaver;
  private readonly limit: number;
  private pending: PackDescription[] = [];
  private pendingBlobs = 0;
  /** Index objects are written one after another; a failure fails every later add and flush. */
  private writing: Promise<void> = Promise.resolve();

  constructor(repo: IndexSaver, limit = INDEX_OBJECT_BLOBS) {
    this.repo = repo;
    this.limit = limit;
  }

  /** Bytes of the packs added. */
  get storedBytes(): number {
    return this.packs.reduce((sum, p) => sum + p.size, 0);
  }

  /**
   * Takes a stored pack. When it would carry the waiting packs over the limit, those are written
   * first, as one index object; the promise resolves once that object is stored (so a fast writer
   * waits for the index, not the other way round).
   */
  add(description: PackDescription): Promise<void> {
    this.packs.push({ id: description.id, type: description.type, size: description.size, blobs: description.blobs.length });
    let written = this.writing;
    if (this.pendingBlobs > 0 && this.pendingBlobs + description.blobs.length > this.limit) written = this.write();
    this.pending.push(description);
    this.pendingBlobs += description.blobs.length;
    return written;
  }

  /** Writes the packs still waiting, and resolves once every index object of the run is stored. */
  flush(): Promise<void> {
    return this.pending.length > 0 ? this.write() : this.writing;
  }

  private write(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingBlobs = 0;
    this.writing = this.writing.then(async () => void (await this.repo.saveObject('index', encodeIndex(batch))));
    // Seen by the next add() or flush(); until then it must not count as unhandled.
    this.writing.catch(() => undefined);
    return this.writing;
  }
}
