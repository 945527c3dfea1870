// Messages between the snapshot coordinator (main thread) and its chunking workers.
//
// A worker reads one file at a time into a reused buffer, cuts it with FastCDC and hashes each
// chunk. It sends the ids of each buffer's chunks to the coordinator, which knows the repository
// index and every id claimed in this run, and answers which ones this worker must store, so each
// new blob is stored once per run. The worker does not wait for that answer: it compresses the
// chunks the start-of-run filter does not know, goes on reading, and seals claimed chunks into a
// data pack of its own as answers arrive, in order. A full pack goes back to the coordinator,
// which stores it and acknowledges; a worker holds at most two unacknowledged packs, and chunk
// data waiting for answers only in its fixed-size ring (byte-ring.ts).
import type { Hex64, PackDescription } from '../../repository/types.ts';

export interface WorkerInit {
  rootKey: Uint8Array;
  repositoryId: Hex64;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
  /** KnownFilter bits of the ids the repository held at the start. */
  known: Uint32Array;
}

export interface FileOutcome {
  content: Hex64[];
  size: number;
  /** Set when the file could not be read or changed while it was read. */
  problem?: { code: string; message: string; changed?: boolean };
}

export type ToWorker =
  | { kind: 'file'; job: number; path: Uint8Array; size: number }
  | { kind: 'claims'; batch: number; store: boolean[] }
  | { kind: 'packStored'; pack: number }
  | { kind: 'flush' };

export type FromWorker =
  /** The chunk ids of one buffer of a file; `done` comes with the file's last batch. */
  | { kind: 'chunks'; job: number; batch: number; ids: Hex64[]; lengths: number[]; done?: FileOutcome }
  | { kind: 'pack'; pack: number; bytes: Uint8Array; description: PackDescription }
  | { kind: 'flushed' };
