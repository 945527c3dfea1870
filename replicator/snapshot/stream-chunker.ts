// Chunks a byte stream (pg_dump's output, an S3 object's body) on the main thread with the same
// FastCDC cuts, blob ids, compression and packs as the file workers (chunk-worker.ts), so a
// stream deduplicates against files and earlier streams alike. Nothing is spooled to disk: the
// stream is cut as it arrives, through one reused buffer.
//
// Memory is bounded: the read buffer (8 MiB plus one maximal chunk), at most BATCH_BYTES of new
// chunks waiting to be compressed (zstd runs in libuv's thread pool, several chunks at once), and
// one pack being filled. storePack() is awaited before the next pack is started, and the stream is
// not read while that happens (async iteration pulls), so a slow site slows the source down.
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import { compressForStorageAsync } from '../../repository/compress.ts';
import type { RootKey } from '../../repository/crypto/root-key.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { StorePack } from './tree-store.ts';

export interface ChunkedStream {
  /** Blob ids of the stream's chunks, in order. */
  content: Hex64[];
  size: number;
  /** Bytes of chunks this run stored (before compression). */
  newBytes: number;
}

export interface StreamChunkerDeps {
  key: RootKey;
  chunker: { min: number; avg: number; max: number };
  packSize: number;
  /** True when the repository (or this run, elsewhere) holds the blob already. */
  isKnown(id: Hex64): boolean;
  /** Resolves once isKnown knows the pack's blobs (tree-store.ts StorePack). */
  storePack: StorePack;
}

const READ_BUFFER = 8 * 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;

export class StreamChunker {
  private readonly deps: StreamChunkerDeps;
  private readonly chunker: Chunker;
  private readonly buffer: Buffer;
  /** New blobs of this run whose pack is not stored yet (then deps.isKnown knows them). */
  private readonly claimed = new Set<Hex64>();
  private pack: PackWriter;
  private busy = false;

  constructor(deps: StreamChunkerDeps) {
    this.deps = deps;
    this.chunker = new Chunker(deps.key.gearTable(), deps.chunker);
    this.buffer = Buffer.allocUnsafe(READ_BUFFER + 2 * deps.chunker.max);
    this.pack = this.newPack();
  }

  /** True when this chunker is storing the blob (its pack not stored yet). */
  has(id: Hex64): boolean {
    return this.claimed.has(id);
  }

  /**
   * Reads `stream` to its end and returns its chunks. One stream at a time (the buffer and the
   * chunker's scan state are shared); a stream that throws fails the call, and what was packed of
   * it stays packed (harmless: unreferenced blobs, stored once).
   */
  async chunk(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ChunkedStream> {
    if (this.busy) throw new Error('StreamChunker.chunk: one stream at a time');
    this.busy = true;
    this.chunker.reset();
    const out: ChunkedStream = { content: [], size: 0, newBytes: 0 };
    let filled = 0;
    try {
      for await (const piece of stream) {
        let from = 0;
        while (from < piece.length) {
          const n = Math.min(piece.length - from, this.buffer.length - filled);
          this.buffer.set(piece.subarray(from, from + n), filled);
          filled += n;
          from += n;
          out.size += n;
          if (filled >= READ_BUFFER) filled = await this.cut(filled, false, out);
        }
      }
      filled = await this.cut(filled, true, out);
      return out;
    } finally {
      this.busy = false;
    }
  }

  /** Stores the last, partly filled pack. */
  async flush(): Promise<void> {
    if (this.pack.count === 0) return;
    await this.ship();
  }

  /** Cuts the chunks in buffer[0..filled), stores the new ones; returns the bytes left over. */
  private async cut(filled: number, eof: boolean, out: ChunkedStream): Promise<number> {
    let start = 0;
    let batch: { id: Hex64; plain: Buffer }[] = [];
    let batchBytes = 0;
    while (start < filled) {
      const length = this.chunker.findBoundary(this.buffer, start, filled, eof);
      if (length <= 0) break;
      const plain = this.buffer.subarray(start, start + length);
      const id = this.deps.key.blobId(plain);
      out.content.push(id);
      if (!this.claimed.has(id) && !this.deps.isKnown(id)) {
        this.claimed.add(id);
        out.newBytes += length;
        // Copied: the buffer is reused for the next read.
        batch.push({ id, plain: Buffer.from(plain) });
        batchBytes += length;
        if (batchBytes >= BATCH_BYTES) {
          await this.seal(batch);
          batch = [];
          batchBytes = 0;
        }
      }
      start += length;
    }
    await this.seal(batch);
    this.buffer.copyWithin(0, start, filled);
    return filled - start;
  }

  private async seal(batch: { id: Hex64; plain: Buffer }[]): Promise<void> {
    const stored = await Promise.all(batch.map((c) => compressForStorageAsync(c.plain)));
    for (let i = 0; i < batch.length; i++) {
      this.pack.add(batch[i]!.id, stored[i]!.bytes, stored[i]!.compression, batch[i]!.plain.length);
      if (this.pack.isFull(this.deps.packSize)) await this.ship();
    }
  }

  private async ship(): Promise<void> {
    const { bytes, description } = this.pack.finish();
    this.pack = this.newPack();
    await this.deps.storePack(bytes, description);
    for (const blob of description.blobs) this.claimed.delete(blob.id);
  }

  private newPack(): PackWriter {
    return new PackWriter(this.deps.key, 'data', this.deps.packSize + this.deps.chunker.max);
  }
}
