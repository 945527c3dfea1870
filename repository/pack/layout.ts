// The byte layout of a pack (FORMAT.md section 4): trailer, nonces and additional data. Writer
// and reader build them here, so the two cannot drift apart.
import type { BlobType, Compression, Hex64 } from '../types.ts';
import { BLOB_TYPE_CODE } from '../types.ts';

/** salt (32) | header length (4, LE) | version (1) | 0 0 0 | "GRPK". */
export const TRAILER_SIZE = 44;
export const PACK_VERSION = 1;
export const SALT_SIZE = 32;
export const PACK_MAGIC = Buffer.from('GRPK', 'ascii');
/** The header's plaintext bound; the sealed header adds the tag. */
export const MAX_HEADER_PLAINTEXT = 16 * 1024 * 1024;
/** The largest blob plaintext: config allows chunks up to 64 MiB, trees are at most 16 MiB. */
export const MAX_BLOB_RAW = 64 * 1024 * 1024;

const BLOB_MAGIC = Buffer.from('GRB1', 'ascii');
const HEADER_MAGIC = Buffer.from('GRPH', 'ascii');

/** `data/<hh>/<id>`: the site key of a pack, the name every error about it carries. */
export function packObjectName(packId: Hex64): string {
  return `data/${packId.slice(0, 2)}/${packId}`;
}

/** 4 zero bytes ‖ offset as uint64 big-endian: unique per blob since offsets are. */
export function blobNonce(offset: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(Math.floor(offset / 0x1_0000_0000), 4);
  nonce.writeUInt32BE(offset >>> 0, 8);
  return nonce;
}

/** "GRB1" | type | compression | id: binds a blob's label to its ciphertext. */
export function blobAad(type: BlobType, compression: Compression, id: Hex64): Buffer {
  const aad = Buffer.alloc(4 + 1 + 1 + 32);
  BLOB_MAGIC.copy(aad, 0);
  aad[4] = BLOB_TYPE_CODE[type];
  aad[5] = compression;
  aad.write(id, 6, 32, 'hex');
  return aad;
}

/** Twelve 0xFF bytes: never a blob nonce, whose first four bytes are zero. */
export const HEADER_NONCE: Buffer = Buffer.alloc(12, 0xff);
export const HEADER_AAD: Buffer = Buffer.concat([HEADER_MAGIC, Buffer.from([PACK_VERSION])]);

export function encodeTrailer(salt: Uint8Array, headerLength: number): Buffer {
  const trailer = Buffer.alloc(TRAILER_SIZE);
  trailer.set(salt, 0);
  trailer.writeUInt32LE(headerLength, SALT_SIZE);
  trailer[SALT_SIZE + 4] = PACK_VERSION;
  PACK_MAGIC.copy(trailer, TRAILER_SIZE - 4);
  return trailer;
}
