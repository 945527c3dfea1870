// zstd for blobs and objects (FORMAT.md sections 3 and 4): compress when it pays, and decompress
// only into a buffer bounded by the length the (authenticated) description announces.
//
// Level 3, not 1: on 1 MiB of GIS-style CSV it stores 0.257 vs 0.299 of the bytes for ~13% less
// speed (195 vs 224 MB/s per core); incompressible data costs 500 vs 780 MB/s. Every stored byte is
// paid at several partner sites and shipped over their links, so the smaller output wins.
import { promisify } from 'node:util';
import { constants, zstdCompress, zstdCompressSync, zstdDecompressSync, type ZstdOptions } from 'node:zlib';
import { describeError } from '../core/errors.ts';
import type { Compression } from './types.ts';
import { IntegrityError } from './errors.ts';

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

/** zstd-compresses `plain` when that saves at least 1/32 of its bytes, else returns it as is (compression 0). */
export function compressForStorage(plain: Uint8Array): StoredBytes {
  // Random-looking data (imagery, archives, encrypted files) does not compress, and trying costs
  // ~2 ms per MiB. When a sample from the middle saves nothing, the whole chunk is stored raw: a
  // chunk compressible only outside its sample loses a little, a raw one is never wrong.
  if (plain.length >= SAMPLE_FROM) {
    const mid = (plain.length - SAMPLE) >> 1;
    const sample = plain.subarray(mid, mid + SAMPLE);
    if (choose(sample, zstdCompressSync(sample, sized(SAMPLE))).compression === 0) return { bytes: plain, compression: 0 };
  }
  return choose(plain, zstdCompressSync(plain, sized(plain.length)));
}

/** Telling zstd the input size lets it size its tables to it: cheaper for the many small chunks. */
function sized(length: number): ZstdOptions {
  return { ...OPTIONS, pledgedSrcSize: length };
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

/**
 * The plaintext of stored bytes whose description (already authenticated) says `compression` and
 * `rawLength`. The decompressor may never produce more than rawLength bytes, so a hostile frame
 * cannot exhaust memory. Any failure or length mismatch is an IntegrityError naming `objectName`.
 */
export function decompressStored(bytes: Uint8Array, compression: Compression, rawLength: number, objectName: string): Buffer {
  let plain: Buffer;
  if (compression === 0) {
    plain = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } else {
    try {
      // maxOutputLength must be ≥ 1; an empty frame still decodes to 0 bytes.
      plain = zstdDecompressSync(bytes, { maxOutputLength: Math.max(1, rawLength) });
    } catch (err) {
      throw new IntegrityError(`${objectName}: zstd data does not decompress to ${rawLength} bytes: ${describeError(err)}`, {
        object: objectName,
        cause: err,
      });
    }
  }
  if (plain.length !== rawLength) {
    throw new IntegrityError(`${objectName}: plaintext is ${plain.length} bytes, ${rawLength} announced`, { object: objectName });
  }
  return plain;
}
