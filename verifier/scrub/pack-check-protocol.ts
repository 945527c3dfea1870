// Messages between a deep scrub and its pack-check threads. The main thread lists and downloads;
// a checker hashes a whole pack against its name, then authenticates its trailer and header and
// every blob (pack/reader.ts readPack: decrypt, decompress, HMAC against the id), and answers
// with what it found. Nothing of a pack's plaintext leaves the thread.
import type { Hex64 } from '../../repository/types.ts';

export interface CheckerInit {
  rootKey: Uint8Array;
  repositoryId: Hex64;
}

export interface PackCheckJob {
  id: number;
  /** The pack's id, its name: what SHA-256 of the bytes must be. */
  pack: Hex64;
  /** The pack object's bytes (transferred to the checker). */
  bytes: Uint8Array;
}

export type PackVerdict =
  /** The bytes hash to the name and every blob the header lists checked out. */
  | { kind: 'sound'; blobs: number }
  /** The bytes are not the ones the name promises. */
  | { kind: 'misnamed'; hash: Hex64 }
  /** Named right, but the contents do not authenticate or do not parse (detail names the object). */
  | { kind: 'damaged'; detail: string };

export interface PackCheckDone {
  id: number;
  /** Size of the bytes checked. */
  size: number;
  /** Set unless the checker itself failed (a bug, or out of memory): then `error`. */
  verdict?: PackVerdict;
  error?: string;
}
