// Encrypted objects (`config`, `index/`, `snapshots/`; FORMAT.md section 3):
//
//   "GRO1" | type (1) | salt (32) | nonce (12) | AES-256-GCM(object key(salt), nonce, flag ‖ JSON) | tag (16)
//
// with the 49 header bytes as AAD. Sizes are bounded before any work: the stored size before
// authenticating, the decompressed size by the decompressor's own output limit, so a hostile or
// buggy writer cannot make a reader allocate more than the type's bound.
import { randomBytes } from 'node:crypto';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { freeIfWhole } from '../core/gc.ts';
import { NONCE_LENGTH, open, seal, TAG_LENGTH } from './crypto/aead.ts';
import { SALT_LENGTH, type RootKey } from './crypto/root-key.ts';
import { FormatError, IntegrityError } from './errors.ts';
import { JsonReader } from './strict-json.ts';

/** The encrypted object types and their type bytes: config 1, index 2, snapshot 3. */
export type ObjectType = 'config' | 'index' | 'snapshot';

const MAGIC = Buffer.from('GRO1', 'ascii');
const TYPE_CODE: Record<ObjectType, number> = { config: 1, index: 2, snapshot: 3 };
const TYPE_OF_CODE = new Map(Object.entries(TYPE_CODE).map(([t, c]) => [c, t as ObjectType]));

/** Largest stored object, and largest decompressed JSON, of each type. */
export const OBJECT_LIMITS: Readonly<Record<ObjectType, number>> = Object.freeze({
  config: 64 * 1024,
  snapshot: 16 * 1024 * 1024,
  index: 256 * 1024 * 1024,
});

const HEADER_LENGTH = MAGIC.byteLength + 1 + SALT_LENGTH + NONCE_LENGTH;
const FLAG_RAW = 0;
const FLAG_ZSTD = 1;

/** The stored bytes of `value` as an object of `type`, under a fresh salt and nonce. */
export function encodeObject(key: RootKey, type: ObjectType, value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  const limit = OBJECT_LIMITS[type];
  // Refused at the writer too, so nothing is stored that every reader would refuse.
  if (json.byteLength > limit) throw new RangeError(`${type} object of ${json.byteLength} bytes exceeds ${limit}`);
  const packed = zstdCompressSync(json);
  // Compress only when it pays (at least 1/32 saved), the same rule as blobs in packs.
  const compressed = json.byteLength - packed.byteLength >= json.byteLength / 32;
  const plaintext = Buffer.concat([Buffer.of(compressed ? FLAG_ZSTD : FLAG_RAW), compressed ? packed : json]);
  const salt = randomBytes(SALT_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const header = Buffer.concat([MAGIC, Buffer.of(TYPE_CODE[type]), salt, nonce]);
  const stored = Buffer.concat([header, seal(key.objectKey(salt), nonce, plaintext, header)]);
  if (stored.byteLength > limit) throw new RangeError(`${type} object of ${stored.byteLength} stored bytes exceeds ${limit}`);
  return stored;
}

/**
 * The JSON value stored in `bytes`, authenticated. `objectName` (the site key) is named in every
 * error: IntegrityError for what fails authentication or is cut short or misplaced, FormatError for
 * authenticated content this version cannot read. The value's shape is the caller's to check.
 */
export function decodeObject(key: RootKey, type: ObjectType, bytes: Buffer, objectName: string): unknown {
  const damaged = (problem: string): IntegrityError =>
    new IntegrityError(`object ${objectName} ${problem}`, { object: objectName });
  const limit = OBJECT_LIMITS[type];
  if (bytes.byteLength > limit) throw damaged(`is ${bytes.byteLength} bytes, more than a ${type} object may be (${limit})`);
  if (bytes.byteLength < HEADER_LENGTH + 1 + TAG_LENGTH) throw damaged(`is too short (${bytes.byteLength} bytes)`);
  checkMagic(bytes, objectName, damaged);
  const code = bytes[MAGIC.byteLength] ?? -1;
  const found = TYPE_OF_CODE.get(code);
  // The types are fixed by the magic's version, and unauthenticated: an unknown one is damage.
  if (found === undefined) throw damaged(`has unknown type byte ${code}`);
  if (found !== type) throw damaged(`holds a ${found} object where a ${type} object belongs`);
  const header = bytes.subarray(0, HEADER_LENGTH);
  const salt = header.subarray(MAGIC.byteLength + 1, MAGIC.byteLength + 1 + SALT_LENGTH);
  const nonce = header.subarray(HEADER_LENGTH - NONCE_LENGTH);
  const plaintext = open(key.objectKey(salt), nonce, bytes.subarray(HEADER_LENGTH), header);
  if (plaintext === undefined) {
    throw damaged('does not authenticate with the repository key: it is damaged, was tampered with, or belongs to another repository');
  }
  const json = unpack(plaintext, limit, objectName);
  try {
    return new JsonReader(objectName, `${type} object`).parse(json);
  } finally {
    // Garbage once parsed, and as large as the object (an index object's JSON runs to MiBs), but
    // V8 sees only small handles and frees them late. Loading the 10 GiB bench set's index: RSS
    // 143 -> 130 MiB, and ~10 MiB less malloc heap kept through the deep check.
    if (json.buffer !== plaintext.buffer) freeIfWhole(json);
    freeIfWhole(plaintext);
  }
}

function unpack(plaintext: Buffer, limit: number, objectName: string): Buffer {
  const flag = plaintext[0];
  const body = plaintext.subarray(1);
  if (flag === FLAG_RAW) return body;
  if (flag !== FLAG_ZSTD) throw new FormatError(`object ${objectName} has unknown compression flag ${flag}`, { object: objectName });
  try {
    return zstdDecompressSync(body, { maxOutputLength: limit });
  } catch (err) {
    // Authenticated, so written with the key: not transit damage but a writer's bug or a hostile
    // key holder. Either way this reader will not expand it.
    const tooLarge = err instanceof RangeError && (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new FormatError(
      tooLarge
        ? `object ${objectName} decompresses to more than ${limit} bytes`
        : `object ${objectName} holds a damaged zstd frame`,
      { object: objectName, cause: err },
    );
  }
}

function checkMagic(bytes: Buffer, objectName: string, damaged: (problem: string) => IntegrityError): void {
  if (bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) return;
  // "GRO" and another digit is a later format version, not damage.
  if (bytes.subarray(0, 3).toString('latin1') === 'GRO' && /[0-9]/.test(String.fromCharCode(bytes[3] ?? 0))) {
    throw new FormatError(`object ${objectName} is format version GRO${String.fromCharCode(bytes[3] ?? 0)}, this georep reads GRO1`, {
      object: objectName,
      hint: 'upgrade georep to read this repository',
    });
  }
  throw damaged('is not a georep object (bad magic)');
}
