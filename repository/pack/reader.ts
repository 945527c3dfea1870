// Reads packs (FORMAT.md section 4) from untrusted bytes. Every failure is an IntegrityError (or,
// for an authenticated header this version cannot read, a FormatError) naming the pack object;
// no plaintext leaves here before its blob id has been checked.
import type { KeyObject } from 'node:crypto';
import { freeIfWhole, keptCopy } from '../../core/gc.ts';
import { open, TAG_LENGTH } from '../crypto/aead.ts';
import { isHex64, sha256Hex } from '../crypto/hash.ts';
import type { RootKey } from '../crypto/root-key.ts';
import { decompressStored } from '../compress.ts';
import { FormatError, IntegrityError } from '../errors.ts';
import { JsonReader } from '../strict-json.ts';
import type { Hex64, PackDescription, PackEntry } from '../types.ts';
import { contiguityProblem, decodeEntries, decodePackType } from './entries.ts';
import {
  blobAad,
  blobNonce,
  HEADER_AAD,
  HEADER_NONCE,
  MAX_HEADER_PLAINTEXT,
  PACK_MAGIC,
  PACK_VERSION,
  packObjectName,
  SALT_SIZE,
  TRAILER_SIZE,
} from './layout.ts';

export { packObjectName, TRAILER_SIZE } from './layout.ts';

export interface PackTrailer {
  salt: Buffer;
  /** Length of the sealed header (ciphertext + tag), which ends where the trailer starts. */
  headerLength: number;
}

/**
 * Reads the trailer from `tail`, the last bytes of a pack of `packSize` bytes (at least the last
 * 44; a caller may fetch more at once to get the header too). Checks magic, version, the reserved
 * bytes and that the announced header fits the pack and the 16 MiB bound.
 */
export function parseTrailer(tail: Buffer, packSize: number, objectName: string): PackTrailer {
  const damaged = (problem: string): IntegrityError => new IntegrityError(`${objectName}: ${problem}`, { object: objectName });
  if (packSize < TRAILER_SIZE || tail.length < TRAILER_SIZE) throw damaged(`${packSize} bytes is too short to be a pack`);
  const t = tail.subarray(tail.length - TRAILER_SIZE);
  if (!t.subarray(TRAILER_SIZE - 4).equals(PACK_MAGIC)) throw damaged('not a pack (bad trailer magic)');
  const version = t[SALT_SIZE + 4];
  if (version !== PACK_VERSION) {
    throw new FormatError(`${objectName}: pack version ${version} is not supported (this georep reads version ${PACK_VERSION})`, {
      object: objectName,
    });
  }
  if (t[SALT_SIZE + 5] !== 0 || t[SALT_SIZE + 6] !== 0 || t[SALT_SIZE + 7] !== 0) throw damaged('reserved trailer bytes are not zero');
  const headerLength = t.readUInt32LE(SALT_SIZE);
  if (headerLength < TAG_LENGTH || headerLength > MAX_HEADER_PLAINTEXT + TAG_LENGTH) {
    throw damaged(`header length ${headerLength} is out of bounds`);
  }
  if (headerLength > packSize - TRAILER_SIZE) throw damaged(`header length ${headerLength} does not fit in ${packSize} bytes`);
  // Kept per pack for a whole restore (BlobReader's salts): never a slice of a shared slab.
  return { salt: keptCopy(t.subarray(0, SALT_SIZE)), headerLength };
}

/**
 * Decrypts and validates the header of pack `packId` (`packSize` bytes): entries well-formed, of
 * the pack's type, contiguous from offset 0 to the header's start.
 */
export function decryptHeader(
  key: RootKey,
  salt: Buffer,
  headerSealed: Uint8Array,
  packSize: number,
  headerLength: number,
  packId: Hex64,
  objectName: string,
): PackDescription {
  if (!isHex64(packId)) throw new RangeError(`pack id must be 64 lowercase hex digits, got ${JSON.stringify(packId)}`);
  if (headerSealed.length !== headerLength) {
    throw new IntegrityError(`${objectName}: header is ${headerSealed.length} bytes, ${headerLength} announced`, { object: objectName });
  }
  const plain = open(key.packKey(salt), HEADER_NONCE, headerSealed, HEADER_AAD);
  if (plain === undefined) {
    throw new IntegrityError(`${objectName}: pack header does not authenticate (damaged, tampered with, or another repository's)`, {
      object: objectName,
    });
  }
  const json = new JsonReader(objectName, 'pack header of');
  const rec = json.record(json.parse(plain), ['type', 'blobs']);
  const type = decodePackType(json, rec.type, 'type');
  const blobs = decodeEntries(json, rec.blobs, type, 'blobs');
  const problem = contiguityProblem(blobs, packSize - TRAILER_SIZE - headerLength);
  if (problem !== undefined) throw new IntegrityError(`${objectName}: ${problem}`, { object: objectName });
  return { id: packId, type, size: packSize, blobs };
}

/**
 * The plaintext of one blob of a pack whose trailer holds `salt`, from `sealed` (its stored bytes).
 * Authenticates it with its label (type, compression, id) and offset, decompresses it within
 * its announced length, and checks that key.blobId(plaintext) is entry.id.
 *
 * `scratch` (optional, see decompressStored): a compressed blob's plaintext is then a view of it,
 * valid until the caller reuses it, so a thread opening blob after blob does not allocate a
 * plaintext buffer for each. Nothing is returned, in it or otherwise, unless every check passed.
 */
export function openBlob(key: RootKey, salt: Buffer, entry: PackEntry, sealed: Uint8Array, objectName: string, scratch?: Buffer): Buffer {
  return openWithPackKey(key, key.packKey(salt), entry, sealed, objectName, scratch);
}

function openWithPackKey(
  key: RootKey,
  packKey: KeyObject,
  entry: PackEntry,
  sealed: Uint8Array,
  objectName: string,
  scratch?: Buffer,
): Buffer {
  const fail = (problem: string, cause?: unknown): IntegrityError =>
    new IntegrityError(`${objectName}: blob ${entry.id} ${problem}`, { object: objectName, cause });
  if (sealed.length !== entry.storedLength) throw fail(`is ${sealed.length} bytes, ${entry.storedLength} announced`);
  const stored = open(packKey, blobNonce(entry.offset), sealed, blobAad(entry.type, entry.compression, entry.id));
  if (stored === undefined) throw fail('does not authenticate (damaged, moved, relabelled or tampered with)');
  let plain: Buffer;
  try {
    plain = decompressStored(stored, entry.compression, entry.rawLength, objectName, scratch);
  } catch (err) {
    throw fail(`does not decompress to its announced ${entry.rawLength} bytes`, err);
  } finally {
    // The decrypted frame is ours alone and done with once decompressed: free it now rather than
    // at some later collection (not when stored raw: then it is the plaintext).
    if (entry.compression !== 0) freeIfWhole(stored);
  }
  if (key.blobId(plain) !== entry.id) throw fail('has content that does not match its id');
  return plain;
}

export interface PackBlob {
  entry: PackEntry;
  plaintext: Buffer;
}

export interface ReadPack {
  description: PackDescription;
  /** Each blob in pack order, checked as openBlob does; throws at the first bad one. */
  blobs(): Iterable<PackBlob>;
}

/** A whole pack in memory: checks sha256(bytes) is `packId`, then the trailer and header. */
export function readPack(key: RootKey, bytes: Buffer, packId: Hex64): ReadPack {
  const objectName = packObjectName(packId);
  if (sha256Hex(bytes) !== packId) {
    throw new IntegrityError(`${objectName}: content does not match its name (SHA-256)`, { object: objectName });
  }
  const { salt, headerLength } = parseTrailer(bytes, bytes.length, objectName);
  const headerStart = bytes.length - TRAILER_SIZE - headerLength;
  const description = decryptHeader(key, salt, bytes.subarray(headerStart, headerStart + headerLength), bytes.length, headerLength, packId, objectName);
  const packKey = key.packKey(salt);
  return {
    description,
    *blobs(): Iterable<PackBlob> {
      for (const entry of description.blobs) {
        const sealed = bytes.subarray(entry.offset, entry.offset + entry.storedLength);
        yield { entry, plaintext: openWithPackKey(key, packKey, entry, sealed, objectName) };
      }
    },
  };
}
