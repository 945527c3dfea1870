// Messages between the snapshot coordinator (main thread) and its chunking workers.
//
// A worker reads one file at a time into a reused buffer, cuts it with FastCDC and hashes each
// chunk. It sends the ids of each buffer's chunks (a batch) to the coordinator, which knows the
// repository index and every id claimed in this run, and answers which ones this worker must
// store, so each new blob is stored once per run. The worker does not wait for that answer: it
// compresses the chunks the start-of-run filter does not know, goes on reading, and seals claimed
// chunks into a data pack of its own as answers arrive, in order. A full pack goes back to the
// coordinator, which stores it and acknowledges; a worker holds at most one unacknowledged pack,
// and chunk data waiting for answers only in its fixed-size ring (byte-ring.ts).
//
// Messages are batched both ways: most files are small, and one message per file and direction
// (~60,000 for 20,000 files) cost more in cloning, wake-ups and context switches than the files'
// hashing. The coordinator gathers, per worker, the files to read, the answers and the pack
// acknowledgements of one turn of its event loop into one `work` message. A worker gathers the
// batches and outcomes of several files into one `chunks` message, and sends it before it waits
// for anything (room in the ring, an answer, a pack acknowledgement: an answer it waits for may
// belong to a batch still held back), when its queue of files runs empty, when it holds enough,
// and before a `pack` or `flushed`: so `flushed` never overtakes the outcome of a file.
// What is cloned is kept small too: a batch's ids travel as one string of 64-digit ids back to
// back, and a file's outcome does not repeat them (its content is the ids of its batches).
// A file that fails (unreadable, not a regular file) ends with its own outcome; it fails nothing
// else. A failed store or a crashed worker fails every pending file (chunker-pool.ts).
import type { Hex64, PackDescription } from '../../repository/types.ts';

export interface WorkerInit {
  rootKey: Uint8Array;
  repositoryId: Hex64;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
  /** KnownFilter bits of the ids the repository held at the start. */
  known: Uint32Array;
  /** Bytes of the ring of chunks waiting for answers (at least chunker.max); 4 MiB unless set. */
  ringSize?: number;
}

export interface FileOutcome {
  content: Hex64[];
  size: number;
  /** Set when the file could not be read or changed while it was read. */
  problem?: { code: string; message: string; changed?: boolean };
}

/** A FileOutcome as sent: its content is the ids of the file's batches, in order. */
export type FileDone = Omit<FileOutcome, 'content'>;

export interface FileJob {
  job: number;
  path: Uint8Array;
  size: number;
  /**
   * The file's chunks last time (ids back to back, as in ChunkBatch, and lengths): a chunk of the
   * same bytes at a place where one of them ends is cut as that one was (chunk-worker.ts).
   */
  earlier?: { ids: string; lengths: number[] };
}

/** The coordinator's answer to one batch: which of its chunks this worker stores. */
export interface Claims {
  batch: number;
  store: boolean[];
}

/**
 * The chunk ids of one buffer of a file (`batch` -1 when it made none); `done` comes with the
 * file's last one.
 */
export interface ChunkBatch {
  job: number;
  batch: number;
  /** The ids, each 64 hex digits, back to back (one string clones faster than many). */
  ids: string;
  lengths: number[];
  done?: FileDone;
}

export type ToWorker =
  /** Files to read, answers and acknowledged packs: what one turn of the coordinator produced. */
  | { kind: 'work'; files: FileJob[]; claims: Claims[]; packsStored: number }
  | { kind: 'flush' };

export type FromWorker =
  /** Batches in the order they were made. */
  | { kind: 'chunks'; batches: ChunkBatch[] }
  | { kind: 'pack'; pack: number; bytes: Uint8Array; description: PackDescription }
  | { kind: 'flushed' };
