// Builds one pack in memory (FORMAT.md section 4): blobs sealed at their final offsets as they
// come, then the encrypted header and the trailer. A pack is small (packSize, 16 MiB by default),
// so it is assembled whole and written with one put.
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { seal, sealInPieces, TAG_LENGTH } from '../crypto/aead.ts';
import { isHex64, sha256Hex } from '../crypto/hash.ts';
import type { RootKey } from '../crypto/root-key.ts';
import type { BlobType, Compression, Hex64, PackDescription, PackEntry } from '../types.ts';
import { encodeEntry } from './entries.ts';
import {
  blobAad,
  blobNonce,
  encodeTrailer,
  HEADER_AAD,
  HEADER_NONCE,
  MAX_BLOB_RAW,
  MAX_HEADER_PLAINTEXT,
  SALT_SIZE,
  TRAILER_SIZE,
} from './layout.ts';

export interface FinishedPack {
  /** The pack object's bytes; store them under `data/<hh>/<description.id>`. */
  bytes: Buffer;
  description: PackDescription;
}

/**
 * Blobs a writer puts in one pack at most: a writer's choice, not a format rule (readers take any
 * count a header of at most 16 MiB holds). Without it a pack of tiny blobs (small files) held
 * ~100,000 entries, each an object in the writer and in its description until the pack is stored
 * and indexed; 16,384 bounds that (and the pack's header, ~1.6 MiB) at ~4 MiB of pack for the
 * smallest files, and leaves packs of ordinary chunks (16 MiB of 1 MiB chunks) untouched.
 */
export const MAX_PACK_BLOBS = 16_384;

// The longest JSON an entry can take (ids 64 digits, offsets and lengths below 2^53) plus its comma.
const MAX_ENTRY_JSON = 2 + 64 + 1 + 2 + 2 + 3 * 17 + 2;

/**
 * Accumulates blobs of one type into a pack under a fresh random salt (so nonces, which are
 * offsets, never repeat under one key). Not reusable: call finish() once.
 */
export class PackWriter {
  readonly type: BlobType;
  private readonly packKey: KeyObject;
  private readonly salt: Buffer;
  /** Sealed blobs, back to back, in one buffer that grows: no second copy of the pack at finish. */
  private buffer: Buffer;
  private readonly entries: PackEntry[] = [];
  private readonly ids = new Set<Hex64>();
  private blobBytes = 0;
  private headerJson: number;
  private finished = false;

  /** `capacityHint`: the pack size the caller aims for, so the buffer rarely has to grow. */
  constructor(key: RootKey, type: BlobType, capacityHint = 1024 * 1024) {
    this.type = type;
    this.buffer = Buffer.allocUnsafeSlow(capacityHint + TRAILER_SIZE + 64 * 1024);
    this.salt = randomBytes(SALT_SIZE);
    this.packKey = key.packKey(this.salt);
    this.headerJson = headerPrefix(type).length + 2;
  }

  /** Blobs so far. */
  get count(): number {
    return this.entries.length;
  }

  /** The exact size the pack would have if finished now: blobs, sealed header and trailer. */
  get size(): number {
    return this.blobBytes + this.headerJson + TAG_LENGTH + TRAILER_SIZE;
  }

  /** Whether the pack should be finished now: `limit` bytes reached, or MAX_PACK_BLOBS blobs. */
  isFull(limit: number): boolean {
    return this.size >= limit || this.entries.length >= MAX_PACK_BLOBS;
  }

  /**
   * Whether a blob of `storedLength` (compressed, before the tag) keeps the pack within `limit`
   * bytes, MAX_PACK_BLOBS blobs and its header within the format's bound. An empty pack always has room, so one blob
   * larger than the limit still gets a pack of its own.
   */
  hasRoomFor(storedLength: number, limit: number): boolean {
    if (this.headerJson + MAX_ENTRY_JSON > MAX_HEADER_PLAINTEXT) return false;
    if (this.entries.length === 0) return true;
    if (this.entries.length >= MAX_PACK_BLOBS) return false;
    return this.size + storedLength + TAG_LENGTH + MAX_ENTRY_JSON <= limit;
  }

  /**
   * Seals `stored` (the plaintext, zstd-compressed when compression is 1) as blob `id` at the
   * current end of the pack. `rawLength` is the plaintext length before compression. The caller
   * computed `id` with key.blobId(plaintext); readers check it, so a wrong id makes the blob
   * unreadable. Throws on a duplicate id, a finished writer or a full header (see hasRoomFor).
   */
  add(id: Hex64, stored: Uint8Array, compression: Compression, rawLength: number): void {
    if (this.finished) throw new Error('PackWriter.add after finish');
    if (!isHex64(id)) throw new RangeError(`blob id must be 64 lowercase hex digits, got ${JSON.stringify(id)}`);
    if (this.ids.has(id)) throw new Error(`blob ${id} is already in this pack`);
    if (!Number.isSafeInteger(rawLength) || rawLength < 0 || rawLength > MAX_BLOB_RAW) {
      throw new RangeError(`blob plaintext length ${rawLength} is out of range`);
    }
    if (compression === 0 && stored.length !== rawLength) {
      throw new RangeError(`uncompressed blob ${id} has ${stored.length} bytes, ${rawLength} announced`);
    }
    // Readers refuse a compressed blob larger than its plaintext (it bounds entries), so never write one.
    if (stored.length > rawLength) throw new RangeError(`compressed blob ${id} is larger than its plaintext`);
    const offset = this.blobBytes;
    // GCM's ciphertext is as long as its plaintext.
    const storedLength = stored.length + TAG_LENGTH;
    const entry: PackEntry = { id, type: this.type, compression, offset, storedLength, rawLength };
    const entryJson = JSON.stringify(encodeEntry(entry)).length + (this.entries.length > 0 ? 1 : 0);
    if (this.headerJson + entryJson > MAX_HEADER_PLAINTEXT) throw new RangeError('pack header would exceed 16 MiB');
    // Sealed straight into the pack, piece by piece: no blob-sized copy (aead.ts sealInPieces).
    sealInPieces(this.packKey, blobNonce(offset), stored, blobAad(this.type, compression, id), (piece) => this.append(piece));
    this.entries.push(entry);
    this.ids.add(id);
    this.blobBytes += storedLength;
    this.headerJson += entryJson;
  }

  private used = 0;

  private append(part: Uint8Array): void {
    if (this.used + part.length > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.used + part.length, Math.floor(this.buffer.length * 1.5)));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.buffer.set(part, this.used);
    this.used += part.length;
  }

  /**
   * The pack's bytes and description (its id is the SHA-256 of the bytes). Needs at least one blob.
   * `bytes` is a view of the writer's own buffer (which may be longer), so it can be transferred.
   */
  finish(): FinishedPack {
    if (this.finished) throw new Error('PackWriter.finish called twice');
    if (this.entries.length === 0) throw new Error('a pack needs at least one blob');
    this.finished = true;
    const header = Buffer.from(`${headerPrefix(this.type)}${this.entries.map((e) => JSON.stringify(encodeEntry(e))).join(',')}]}`, 'utf8');
    const sealedHeader = seal(this.packKey, HEADER_NONCE, header, HEADER_AAD);
    this.append(sealedHeader);
    this.append(encodeTrailer(this.salt, sealedHeader.length));
    const bytes = this.buffer.subarray(0, this.used);
    return { bytes, description: { id: sha256Hex(bytes), type: this.type, size: bytes.length, blobs: this.entries } };
  }
}

// The header is `{"type":"data","blobs":[e0,e1,...]}`; built by hand so its length is known as
// blobs are added.
function headerPrefix(type: BlobType): string {
  return `{"type":${JSON.stringify(type)},"blobs":[`;
}
