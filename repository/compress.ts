// zstd for blobs and objects (FORMAT.md sections 3 and 4): compress when it pays, and decompress
// only into a buffer bounded by the length the (authenticated) description announces.
//
// Level 3, not 1: on 1 MiB of GIS-style CSV it stores 0.257 vs 0.299 of the bytes for ~13% less
// speed (195 vs 224 MB/s per core); incompressible data costs 500 vs 780 MB/s. Every stored byte is
// paid at several partner sites and shipped over their links, so the smaller output wins.
import { promisify } from 'node:util';
import { constants, zstdCompress, type ZstdOptions } from 'node:zlib';
import type { Compression } from './types.ts';
import { IntegrityError } from './errors.ts';
import { ZstdCompressor, ZstdDecompressor } from './zstd-context.ts';

export const ZSTD_LEVEL = 3;

const OPTIONS: ZstdOptions = { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } };
const zstdCompressAsync = promisify(zstdCompress);

export interface StoredBytes {
  bytes: Uint8Array;
  compression: Compression;
}

/** Chunks at least this long are first tried on a sample, so incompressible data costs little. */
const SAMPLE_FROM = 256 * 1024;
const SAMPLE = 16 * 1024;

/**
 * Compresses blobs for storage through one kept zstd context (zstd-context.ts) into a scratch
 * buffer of its own. Not re-entrant: one per thread.
 */
export class StorageCompressor {
  private readonly zstd = new ZstdCompressor(ZSTD_LEVEL);
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);

  /**
   * `plain` zstd-compressed when that saves at least 1/32 of its bytes, else `plain` itself
   * (compression 0). Compressed bytes are a view of this compressor's scratch buffer, valid until
   * the next call: copy or seal them before that.
   */
  compress(plain: Uint8Array): StoredBytes {
    // Random-looking data (imagery, archives, encrypted files) does not compress, and trying costs
    // ~2 ms per MiB. When a sample from the middle saves nothing, the whole chunk is stored raw: a
    // chunk compressible only outside its sample loses a little, a raw one is never wrong.
    if (plain.length >= SAMPLE_FROM) {
      const mid = (plain.length - SAMPLE) >> 1;
      if (this.squeeze(plain.subarray(mid, mid + SAMPLE)) < 0) return { bytes: plain, compression: 0 };
    }
    const length = this.squeeze(plain);
    return length < 0 ? { bytes: plain, compression: 0 } : { bytes: this.scratch.subarray(0, length), compression: 1 };
  }

  /** The compressed length when it saves at least 1/32 of `plain`, else -1. */
  private squeeze(plain: Uint8Array): number {
    // Output beyond this bound does not pay, so zstd is never given room for it.
    const limit = plain.length - Math.ceil(plain.length / 32);
    if (limit <= 0) return -1;
    if (this.scratch.length < limit) this.scratch = Buffer.allocUnsafeSlow(Math.max(limit, this.scratch.length * 2));
    return this.zstd.compressInto(plain, this.scratch, limit);
  }
}

const shared = new StorageCompressor();

/** As StorageCompressor.compress, but the compressed bytes are a buffer of their own. */
export function compressForStorage(plain: Uint8Array): StoredBytes {
  const stored = shared.compress(plain);
  return stored.compression === 0 ? stored : { bytes: Buffer.from(stored.bytes), compression: 1 };
}

/** As compressForStorage, but compresses in the libuv threadpool so several chunks compress at once. */
export async function compressForStorageAsync(plain: Uint8Array): Promise<StoredBytes> {
  return choose(plain, await zstdCompressAsync(plain, OPTIONS));
}

function choose(plain: Uint8Array, compressed: Buffer): StoredBytes {
  const saved = plain.length - compressed.length;
  if (saved > 0 && saved * 32 >= plain.length) return { bytes: compressed, compression: 1 };
  return { bytes: plain, compression: 0 };
}

const decompressor = new ZstdDecompressor();

/**
 * The plaintext of stored bytes whose description (already authenticated) says `compression` and
 * `rawLength`. The decompressor may never produce more than rawLength bytes, so a hostile frame
 * cannot exhaust memory. Any failure or length mismatch is an IntegrityError naming `objectName`.
 *
 * With `scratch` of at least rawLength bytes, compressed bytes are decompressed into its start
 * and the plaintext is a view of it (valid until the caller reuses it), not a buffer of its own;
 * after a failure its content is undefined.
 */
export function decompressStored(
  bytes: Uint8Array,
  compression: Compression,
  rawLength: number,
  objectName: string,
  scratch?: Buffer,
): Buffer {
  if (compression === 0) {
    if (bytes.length !== rawLength) {
      throw new IntegrityError(`${objectName}: plaintext is ${bytes.length} bytes, ${rawLength} announced`, { object: objectName });
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const plain = scratch !== undefined && scratch.length >= rawLength ? scratch.subarray(0, rawLength) : Buffer.allocUnsafe(rawLength);
  if (!decompressor.decompressInto(bytes, plain)) {
    throw new IntegrityError(`${objectName}: zstd data does not decompress to ${rawLength} bytes`, { object: objectName });
  }
  return plain;
}
