// Messages between the snapshot coordinator (main thread) and its chunking workers.
//
// A worker reads one file at a time into a reused buffer, cuts it with FastCDC, hashes each
// chunk, and asks the coordinator which chunk ids it should store (the coordinator knows the
// repository index and every id already claimed in this run, so each new blob is stored once).
// The worker compresses and encrypts the claimed chunks into a data pack of its own; a full pack
// goes back to the coordinator, which uploads it and acknowledges, so a worker never holds more
// than one pack beyond the one being uploaded.
import type { Hex64, PackDescription } from '../../repository/types.ts';

export interface WorkerInit {
  rootKey: Uint8Array;
  repositoryId: Hex64;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
}

export type ToWorker =
  | { kind: 'file'; job: number; path: Uint8Array; size: number }
  | { kind: 'claims'; job: number; batch: number; store: boolean[] }
  | { kind: 'packStored'; pack: number }
  | { kind: 'flush' };

export type FromWorker =
  | { kind: 'ids'; job: number; batch: number; ids: Hex64[] }
  | { kind: 'pack'; pack: number; bytes: Uint8Array; description: PackDescription }
  | {
      kind: 'fileDone';
      job: number;
      content: Hex64[];
      size: number;
      /** Bytes read that were new to the repository (before compression). */
      newBytes: number;
      /** Set when the file could not be read or changed while it was read. */
      problem?: { code: string; message: string; changed?: boolean };
    }
  | { kind: 'flushed' };
