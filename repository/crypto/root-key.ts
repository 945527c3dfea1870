// The repository's root key and the subkeys of FORMAT.md section 2. Holding a RootKey means being
// able to read and write the repository, so it never prints itself (inspect, JSON) and hands its
// bytes out only through exportRaw(), for worker threads.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import type { Hex64 } from '../types.ts';
import { KEY_LENGTH } from './aead.ts';
import { isHex64 } from './hash.ts';
import { deriveKey } from './hkdf.ts';

export const ROOT_KEY_LENGTH = 32;
export const SALT_LENGTH = 32;

const EMPTY = new Uint8Array(0);
export const INFO_BLOB_ID = 'georep/v1/blob-id';
export const INFO_GEAR = 'georep/v1/gear';
export const INFO_PACK = 'georep/v1/pack';
export const INFO_OBJECT = 'georep/v1/object';
const GEAR_ENTRIES = 256;

/**
 * The 32-byte root key of one repository, with its id. Subkeys are derived on demand; the blob-id
 * key once, since every chunk needs it. Instances are immutable and safe to share.
 */
const PACK_KEY_CACHE = 64;

export class RootKey {
  readonly repositoryId: Hex64;
  readonly #root: Buffer;
  readonly #blobIdKey: KeyObject;
  /** Recently used pack keys: a restore or a writer touches each pack's key once per blob. */
  readonly #packKeys = new Map<string, KeyObject>();

  constructor(root: Buffer, repositoryId: Hex64) {
    if (root.byteLength !== ROOT_KEY_LENGTH) throw new RangeError(`a root key is ${ROOT_KEY_LENGTH} bytes`);
    if (!isHex64(repositoryId)) throw new RangeError('a repository id is 64 lowercase hex digits');
    // A private copy: the caller may wipe or reuse its buffer.
    this.#root = Buffer.from(root);
    this.repositoryId = repositoryId;
    // KeyObjects, not Buffers: node:crypto would otherwise import the raw key on every call.
    this.#blobIdKey = createSecretKey(deriveKey(this.#root, EMPTY, INFO_BLOB_ID, KEY_LENGTH));
  }

  /** HMAC-SHA256(blob-id key, plaintext): names a chunk or tree without revealing its hash. */
  blobId(plaintext: Uint8Array): Hex64 {
    return createHmac('sha256', this.#blobIdKey).update(plaintext).digest('hex');
  }

  /** The chunker's 256-entry gear table, secret so that chunk boundaries do not leak content. */
  gearTable(): Uint32Array {
    const bytes = deriveKey(this.#root, EMPTY, INFO_GEAR, GEAR_ENTRIES * 4);
    const table = new Uint32Array(GEAR_ENTRIES);
    for (let i = 0; i < GEAR_ENTRIES; i++) table[i] = bytes.readUInt32LE(i * 4);
    return table;
  }

  /** AES-256-GCM key of the pack whose trailer holds `salt`. */
  packKey(salt: Uint8Array): KeyObject {
    const id = Buffer.from(checkSalt(salt)).toString('hex');
    let key = this.#packKeys.get(id);
    if (key === undefined) {
      key = createSecretKey(deriveKey(this.#root, salt, INFO_PACK, KEY_LENGTH));
      if (this.#packKeys.size >= PACK_KEY_CACHE) this.#packKeys.delete(this.#packKeys.keys().next().value!);
      this.#packKeys.set(id, key);
    }
    return key;
  }

  /** AES-256-GCM key of the encrypted object (config, index, snapshot) whose header holds `salt`. */
  objectKey(salt: Uint8Array): KeyObject {
    return createSecretKey(deriveKey(this.#root, checkSalt(salt), INFO_OBJECT, KEY_LENGTH));
  }

  /** A copy of the root bytes, to rebuild the key in a worker thread. Never log or store it. */
  exportRaw(): Buffer {
    return Buffer.from(this.#root);
  }

  toJSON(): { repositoryId: Hex64 } {
    return { repositoryId: this.repositoryId };
  }

  [inspect.custom](): string {
    return `RootKey { repositoryId: '${this.repositoryId}' }`;
  }
}

function checkSalt(salt: Uint8Array): Uint8Array {
  if (salt.byteLength !== SALT_LENGTH) throw new RangeError(`a pack or object salt is ${SALT_LENGTH} bytes`);
  return salt;
}
