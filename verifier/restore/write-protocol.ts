// Messages between a restore and its writer threads. The main thread plans and fetches pack
// spans; a writer authenticates and decompresses each blob of a span (pack/reader.ts openBlob:
// nothing unverified comes out) and writes it into every file and offset that needs it.
import type { PackEntry } from '../../repository/types.ts';
import type { FileMeta } from './safe-fs.ts';

export interface WriterInit {
  rootKey: Uint8Array;
  repositoryId: string;
}

export interface SpanWrite {
  /** Index of the file in the restore plan, echoed back in failures. */
  file: number;
  /** Absolute path of the file (opened without following links). */
  path: Uint8Array;
  offset: number;
  /**
   * Set when the writer creates the file with this, its only write (safe-fs.ts CREATE_FLAGS:
   * never over anything already there). Unset: the restore created the file, empty at its size.
   * The restore sets it for one-blob files in folders it made itself, where nothing can be unless
   * someone races it, so 20,000 small files are not each checked and created on the main thread
   * only to be opened again here.
   */
  create?: boolean;
  /**
   * Set when this write is the file's only one (most small files are one blob): the writer then
   * sets owner, mode and mtime through the descriptor it wrote with, once the write succeeded,
   * sparing the restore's last pass a second open of the file.
   */
  meta?: FileMeta;
}

export interface SpanJob {
  kind: 'span';
  id: number;
  /** The pack's object name, for errors. */
  pack: string;
  salt: Uint8Array;
  /** Pack offset of span[0]. */
  start: number;
  span: Uint8Array;
  /** Send the span's buffer back with the answer (WritePool's span buffers), rather than free it. */
  returnSpan: boolean;
  blobs: { entry: PackEntry; writes: SpanWrite[] }[];
}

export interface SpanDone {
  kind: 'done';
  id: number;
  bytes: number;
  /** `blob` (an index into SpanJob.blobs) is set when the blob failed its checks, not the write. */
  failures: { file: number; code: string; message: string; blob?: number }[];
  /**
   * Files this writer created (SpanWrite.create), whether or not their write then succeeded: the
   * restore may remove these, and only these, when they fail.
   */
  created: number[];
  /** The span's buffer, handed back when SpanJob.returnSpan asked for it. */
  span?: ArrayBuffer;
  /** Files whose metadata (SpanWrite.meta) was set. */
  metaSet: number[];
  /** Files written whole whose metadata could not be set: a problem, not a failed file. */
  metaFailures: { file: number; code: string; message: string }[];
}
