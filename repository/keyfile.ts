// Key files (`keys/<hex64>`, FORMAT.md section 2): the root key and repository id, wrapped with a
// key derived from a password by argon2id. Several key files may wrap the same root key, one per
// password. The KDF parameters are read from the file, which anyone with site access can write,
// so they are bounded both ways: too low is a weak key, too high a denial of service.
import * as nodeCrypto from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { collectNow } from '../core/gc.ts';
import { UsageError } from '../core/errors.ts';
import { NONCE_LENGTH, open, seal, TAG_LENGTH } from './crypto/aead.ts';
import { isHex64 } from './crypto/hash.ts';
import { ROOT_KEY_LENGTH } from './crypto/root-key.ts';
import { FormatError, WeakKeyError, WrongPasswordError } from './errors.ts';
import { JsonReader } from './strict-json.ts';
import type { Hex64 } from './types.ts';

/** argon2id cost parameters, as a key file stores them; bounded by MIN_KDF and MAX_KDF. */
export interface KdfParams {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export const DEFAULT_KDF: Readonly<KdfParams> = Object.freeze({ memoryKiB: 65536, iterations: 3, parallelism: 1 });
/** The weakest parameters a reader accepts (OWASP's argon2id floor); tests use them to stay fast. */
export const MIN_KDF: Readonly<KdfParams> = Object.freeze({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
/** The most a reader will spend on one key file: beyond this a planted file could exhaust memory or time. */
export const MAX_KDF: Readonly<KdfParams> = Object.freeze({ memoryKiB: 4194304, iterations: 64, parallelism: 16 });

export const MAX_KEY_FILE_BYTES = 64 * 1024;
const KDF_SALT_LENGTH = 32;
const MIN_SALT = 16;
const MAX_SALT = 64;
const KEK_LENGTH = 32;
const AAD = Buffer.from('georep/v1/key', 'ascii');
const WRAPPED_LENGTH = NONCE_LENGTH + ROOT_KEY_LENGTH + 32 + TAG_LENGTH;
const MAX_TEXT = 256;

/** Who made a key file and when; public, stored in the clear. */
export interface KeyFileMeta {
  created: string;
  host: string;
  user: string;
}

/** What anyone can read from a key file without its password. */
export interface KeyFileInfo extends KeyFileMeta {
  kdf: KdfParams;
}

/** What a key file wraps; the caller owns `root` and should wipe it once a RootKey holds it. */
export interface UnwrappedKey {
  root: Buffer;
  repositoryId: Hex64;
}

interface ParsedKeyFile extends KeyFileInfo {
  salt: Buffer;
  wrapped: Buffer;
}

/** Wraps `root` and `repositoryId` with `password`; the bytes to store under keys/<sha256>. */
export async function createKeyFile(
  root: Buffer,
  repositoryId: Hex64,
  password: string,
  params: KdfParams,
  meta: KeyFileMeta,
): Promise<Buffer> {
  if (root.byteLength !== ROOT_KEY_LENGTH) throw new RangeError(`a root key is ${ROOT_KEY_LENGTH} bytes`);
  if (!isHex64(repositoryId)) throw new RangeError('a repository id is 64 lowercase hex digits');
  if (password === '') throw new UsageError('a password must not be empty');
  // A writer holds itself to what readers accept, so it never makes a file nobody can open.
  const problem = kdfProblem(params, 'the new key file');
  if (problem !== undefined) throw problem;
  const salt = randomBytes(KDF_SALT_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const kek = await deriveKek(password, salt, params);
  const plaintext = Buffer.concat([root, Buffer.from(repositoryId, 'hex')]);
  const sealed = seal(kek, nonce, plaintext, AAD);
  kek.fill(0);
  plaintext.fill(0);
  const doc = {
    georep: 'key',
    version: 1,
    created: meta.created,
    host: meta.host,
    user: meta.user,
    kdf: {
      name: 'argon2id',
      memoryKiB: params.memoryKiB,
      iterations: params.iterations,
      parallelism: params.parallelism,
      salt: salt.toString('base64'),
    },
    wrapped: Buffer.concat([nonce, sealed]).toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
}

/**
 * Unwraps a key file with `password`. FormatError for anything malformed or of an unknown version,
 * WeakKeyError for KDF parameters out of bounds (checked before any work), WrongPasswordError when
 * the tag does not authenticate. `objectName` is the site key, for messages.
 */
export async function openKeyFile(bytes: Buffer, password: string, objectName: string): Promise<UnwrappedKey> {
  const file = parseKeyFile(bytes, objectName);
  const problem = kdfProblem(file.kdf, objectName);
  if (problem !== undefined) throw problem;
  const kek = await deriveKek(password, file.salt, file.kdf);
  const nonce = file.wrapped.subarray(0, NONCE_LENGTH);
  const plaintext = open(kek, nonce, file.wrapped.subarray(NONCE_LENGTH), AAD);
  kek.fill(0);
  if (plaintext === undefined) {
    throw new WrongPasswordError(`wrong password for key file ${objectName}`, { object: objectName });
  }
  const root = Buffer.from(plaintext.subarray(0, ROOT_KEY_LENGTH));
  const repositoryId = plaintext.subarray(ROOT_KEY_LENGTH).toString('hex');
  plaintext.fill(0);
  return { root, repositoryId };
}

/** The public metadata of a key file, without its password. Throws FormatError if malformed. */
export function describeKeyFile(bytes: Buffer, objectName: string): KeyFileInfo {
  const { created, host, user, kdf } = parseKeyFile(bytes, objectName);
  return { created, host, user, kdf };
}

/** WeakKeyError naming the first parameter out of bounds, or undefined when all are within. */
export function kdfProblem(params: KdfParams, objectName: string): WeakKeyError | undefined {
  for (const name of ['memoryKiB', 'iterations', 'parallelism'] as const) {
    const value = params[name];
    if (!Number.isSafeInteger(value) || value < MIN_KDF[name]) {
      return new WeakKeyError(`key file ${objectName}: KDF ${name} ${value} is below the minimum ${MIN_KDF[name]}`, {
        object: objectName,
        hint: 'a weak key file is easy to brute-force: add a key with stronger parameters (georep key add), then remove this one',
      });
    }
    if (value > MAX_KDF[name]) {
      return new WeakKeyError(
        `key file ${objectName}: KDF ${name} ${value} is above the maximum ${MAX_KDF[name]} (refused as a denial of service)`,
        { object: objectName },
      );
    }
  }
  return undefined;
}

function parseKeyFile(bytes: Buffer, objectName: string): ParsedKeyFile {
  const r = new JsonReader(objectName, 'key file');
  if (bytes.byteLength > MAX_KEY_FILE_BYTES) throw r.fail(`is larger than ${MAX_KEY_FILE_BYTES} bytes`);
  const value = r.parse(bytes);
  // The version first: a newer file may well have fields this version does not know.
  const head = r.object(value);
  if (head.georep !== 'key') throw r.fail('is not a georep key file');
  if (head.version !== 1) {
    throw new FormatError(`key file ${objectName} has version ${JSON.stringify(head.version)}, this georep reads version 1`, {
      object: objectName,
      hint: 'upgrade georep to read this repository',
    });
  }
  const doc = r.record(value, ['georep', 'version', 'created', 'host', 'user', 'kdf', 'wrapped']);
  const kdf = r.record(doc.kdf, ['name', 'memoryKiB', 'iterations', 'parallelism', 'salt'], 'kdf');
  if (kdf.name !== 'argon2id') throw r.fail(`kdf.name ${JSON.stringify(kdf.name)} is not argon2id`);
  const salt = r.base64(kdf.salt, 'kdf.salt');
  if (salt.byteLength < MIN_SALT) {
    throw new WeakKeyError(`key file ${objectName}: KDF salt of ${salt.byteLength} bytes is shorter than ${MIN_SALT}`, {
      object: objectName,
    });
  }
  if (salt.byteLength > MAX_SALT) throw r.fail(`kdf.salt is longer than ${MAX_SALT} bytes`);
  const wrapped = r.base64(doc.wrapped, 'wrapped');
  if (wrapped.byteLength !== WRAPPED_LENGTH) throw r.fail(`wrapped is ${wrapped.byteLength} bytes, not ${WRAPPED_LENGTH}`);
  return {
    created: r.time(doc.created, 'created'),
    host: r.string(doc.host, 'host', MAX_TEXT),
    user: r.string(doc.user, 'user', MAX_TEXT),
    kdf: {
      memoryKiB: r.integer(kdf.memoryKiB, 'kdf.memoryKiB'),
      iterations: r.integer(kdf.iterations, 'kdf.iterations'),
      parallelism: r.integer(kdf.parallelism, 'kdf.parallelism'),
    },
    salt,
    wrapped,
  };
}

/**
 * Node's own argon2 (OpenSSL, Node >= 24.7), with hash-wasm where it is missing (georep runs on
 * Node >= 22.15). The same function, the same bytes (repository/keyfile.test.ts checks one
 * against the other); the native one takes ~215 ms for the default parameters where the
 * WebAssembly one takes ~395 ms, paid by every command that opens a repository.
 */
type Argon2 = (
  algorithm: 'argon2id',
  parameters: { message: Uint8Array; nonce: Uint8Array; parallelism: number; tagLength: number; memory: number; passes: number },
  callback: (err: Error | null, key: Buffer) => void,
) => void;
const nativeArgon2 = (nodeCrypto as unknown as { argon2?: Argon2 }).argon2;

/** The key-encryption key; `native` only for the test that pins both implementations together. */
export async function deriveKek(password: string, salt: Buffer, params: KdfParams, native: Argon2 | null = nativeArgon2 ?? null): Promise<Buffer> {
  const message = Buffer.from(password, 'utf8');
  if (native !== null) {
    const parameters = {
      message,
      nonce: salt,
      parallelism: params.parallelism,
      tagLength: KEK_LENGTH,
      memory: params.memoryKiB,
      passes: params.iterations,
    };
    // OpenSSL's working memory is its own, freed when the call returns: nothing for V8 to collect.
    return new Promise((resolve, reject) => native('argon2id', parameters, (err, key) => (err === null ? resolve(key) : reject(err))));
  }
  const kek = await argon2id({
    password: message,
    salt,
    memorySize: params.memoryKiB,
    iterations: params.iterations,
    parallelism: params.parallelism,
    hashLength: KEK_LENGTH,
    outputType: 'binary',
  });
  // argon2id's working memory (64 MiB by default) is garbage now; free it before a long run.
  collectNow();
  return Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength);
}
