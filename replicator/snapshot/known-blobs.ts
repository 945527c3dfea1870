// What a snapshot needs of the repository's index. georep snapshot --site gives it SpilledIds
// (repository/index/spilled-ids.ts: the ids only, in memory that does not grow with them); an S3
// source, which reads its parent's blobs, and snapshot --to give it a MasterIndex.
import type { Hex64, PackDescription } from '../../repository/types.ts';

export interface KnownBlobs {
  /** Ids known: sizes the workers' Bloom filter (SpilledIds may count an id twice). */
  readonly blobCount: number;
  /** Whether the blob is stored (in a pack the index names, or one this run stored). */
  has(id: Hex64): boolean;
  /** Learns the blobs of a pack once it is stored. */
  addPack(description: PackDescription): void;
  blobIds(): Iterable<Hex64>;
}
