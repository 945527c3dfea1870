// The one object the rest of georep uses to talk to a repository on one Site: it creates and
// opens repositories, manages key files, and stores and loads encrypted objects and packs. Every
// object read is checked against its name (content addressing) and authenticated before use.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { UsageError } from '../core/errors.ts';
import { NotFoundError, PreconditionFailedError } from '../sites/errors.ts';
import type { Site } from '../sites/site.ts';
import { isHex64, sha256Hex } from './crypto/hash.ts';
import { ROOT_KEY_LENGTH, RootKey } from './crypto/root-key.ts';
import { makeConfig, validateConfig, type ConfigOptions } from './config.ts';
import { FormatError, IntegrityError, NoRepositoryError, RepositoryExistsError } from './errors.ts';
import { listKeyIds, readKeyFile, unlock, type SkippedKey } from './key-store.ts';
import { createKeyFile, DEFAULT_KDF, describeKeyFile, type KdfParams } from './keyfile.ts';
import {
  CONFIG_KEY,
  getBounded,
  KEYS_PREFIX,
  keyFileKey,
  objectKey,
  objectPrefix,
  packKey,
  putContentAddressed,
  type StoredObjectType,
} from './layout.ts';
import { decodeObject, encodeObject, OBJECT_LIMITS } from './object-codec.ts';
import type { Hex64, RepositoryConfig } from './types.ts';

/** Who adds a key file; stored in the clear so an operator can tell key files apart. */
export interface KeyMeta {
  host: string;
  user: string;
}

/** A new repository's parameters; those left out take the defaults of FORMAT.md. */
export interface InitOptions extends ConfigOptions, KeyMeta {
  kdf?: KdfParams;
  clock: Clock;
}

/** The clock dates key files added through the opened repository. */
export interface OpenOptions {
  clock: Clock;
}

/** A key file as `listKeys` shows it. */
export type KeyListing =
  | { id: Hex64; created: string; host: string; user: string; kdf: KdfParams; current: boolean }
  | { id: Hex64; current: false; problem: string };

/**
 * An open repository at one site. Construct with init() or open(). Holds the root key; safe to
 * use from concurrent async tasks (it keeps no mutable state besides the site's own).
 */
export class Repository {
  readonly site: Site;
  readonly config: RepositoryConfig;
  readonly key: RootKey;
  /** The key file the password opened. */
  readonly keyId: Hex64;
  /** Key files open() skipped as damaged, weak or foreign; worth a warning. */
  readonly skippedKeys: readonly SkippedKey[];
  readonly clock: Clock;

  private constructor(site: Site, config: RepositoryConfig, key: RootKey, keyId: Hex64, skipped: SkippedKey[], clock: Clock) {
    this.site = site;
    this.config = config;
    this.key = key;
    this.keyId = keyId;
    this.skippedKeys = skipped;
    this.clock = clock;
  }

  /** Creates a repository at an empty site: the key file first, so a config never exists without a key. */
  static async init(site: Site, password: string, options: InitOptions): Promise<Repository> {
    await refuseExisting(site);
    const root = randomBytes(ROOT_KEY_LENGTH);
    const key = new RootKey(root, randomBytes(32).toString('hex'));
    const config = makeConfig(options, key.repositoryId, options.clock);
    const keyBytes = await createKeyFile(root, key.repositoryId, password, options.kdf ?? DEFAULT_KDF, {
      created: options.clock.now().toISOString(),
      host: options.host,
      user: options.user,
    });
    root.fill(0);
    const keyId = sha256Hex(keyBytes);
    await putContentAddressed(site, keyFileKey(keyId), keyBytes);
    try {
      await site.put(CONFIG_KEY, encodeObject(key, 'config', config), { createOnly: true });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      // Another init won the race: our key file wraps a root key nothing uses; take it back.
      await site.delete(keyFileKey(keyId)).catch(() => undefined);
      throw new RepositoryExistsError(`site ${site.name} already holds a repository (created concurrently)`, {
        object: CONFIG_KEY,
      });
    }
    return new Repository(site, config, key, keyId, [], options.clock);
  }

  /** Opens the repository at `site` with any key file's password. */
  static async open(site: Site, password: string, options: OpenOptions): Promise<Repository> {
    const configBytes = await getBounded(site, CONFIG_KEY, OBJECT_LIMITS.config, 'object').catch((err: unknown) => {
      if (err instanceof NotFoundError) {
        throw new NoRepositoryError(`site ${site.name} holds no repository (no config)`, { object: CONFIG_KEY });
      }
      throw err;
    });
    const ids = await listKeyIds(site);
    if (ids.length === 0) {
      throw new NoRepositoryError(`site ${site.name} has a config but no key files`, {
        object: KEYS_PREFIX,
        hint: 'restore keys/ from another site of this repository: without a key file nobody can read it',
      });
    }
    const { key, keyId, value, skipped } = await unlock(site, ids, password, (candidate, id) =>
      readConfig(candidate, id, configBytes),
    );
    return new Repository(site, value, key, keyId, skipped, options.clock);
  }

  /**
   * The same repository at another site, opened with the key `from` already holds: no password, no
   * KDF. The site's config must authenticate under that key and name the same repository id
   * (IntegrityError otherwise); a site without one is a NoRepositoryError. For reading copies of
   * one repository at several sites (failover), where every target holds the same config and keys.
   */
  static async openWith(site: Site, from: Repository): Promise<Repository> {
    const bytes = await getBounded(site, CONFIG_KEY, OBJECT_LIMITS.config, 'object').catch((err: unknown) => {
      if (err instanceof NotFoundError) {
        throw new NoRepositoryError(`site ${site.name} holds no repository (no config)`, { object: CONFIG_KEY });
      }
      throw err;
    });
    const config = readConfig(from.key, from.keyId, bytes);
    return new Repository(site, config, from.key, from.keyId, [], from.clock);
  }

  /** Adds a key file for `newPassword`; returns its id. The current password keeps working. */
  async addKey(newPassword: string, kdf: KdfParams | undefined, meta: KeyMeta): Promise<Hex64> {
    const root = this.key.exportRaw();
    const bytes = await createKeyFile(root, this.key.repositoryId, newPassword, kdf ?? DEFAULT_KDF, {
      created: this.clock.now().toISOString(),
      ...meta,
    });
    root.fill(0);
    const id = sha256Hex(bytes);
    await putContentAddressed(this.site, keyFileKey(id), bytes);
    return id;
  }

  /** Every key file at the site with its public metadata; unreadable ones with their problem. */
  async listKeys(): Promise<KeyListing[]> {
    const out: KeyListing[] = [];
    for (const id of await listKeyIds(this.site)) {
      try {
        const info = describeKeyFile(await readKeyFile(this.site, id), keyFileKey(id));
        out.push({ id, ...info, current: id === this.keyId });
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        if (!(err instanceof IntegrityError || err instanceof FormatError)) throw err;
        out.push({ id, current: false, problem: err.message });
      }
    }
    return out;
  }

  /**
   * Deletes key file `id`. Refuses the key in use (this process proves its password works) and
   * so never removes the last working key: the one in use is checked to be still there first.
   */
  async removeKey(id: Hex64): Promise<void> {
    const name = keyFileKey(id);
    if (id === this.keyId) {
      throw new UsageError(`key file ${id} is the one in use`, {
        hint: 'open the repository with another key file\'s password to remove this one',
      });
    }
    try {
      await this.site.head(name);
    } catch (err) {
      if (err instanceof NotFoundError) throw new UsageError(`no key file ${id} at site ${this.site.name}`);
      throw err;
    }
    try {
      await readKeyFile(this.site, this.keyId);
    } catch (err) {
      throw new IntegrityError(`refusing to remove key file ${id}: the key in use (${this.keyId}) is no longer sound at site ${this.site.name}, so it could be the last key`, {
        object: keyFileKey(this.keyId),
        cause: err,
      });
    }
    await this.site.delete(name);
  }

  /** Encrypts and stores an index or snapshot object; returns its id (the SHA-256 of its bytes). */
  async saveObject(type: StoredObjectType, value: unknown, signal?: AbortSignal): Promise<Hex64> {
    const bytes = encodeObject(this.key, type, value);
    const id = sha256Hex(bytes);
    await putContentAddressed(this.site, objectKey(type, id), bytes, signal);
    return id;
  }

  /** The authenticated JSON value of an index or snapshot object. Its shape is the caller's to check. */
  async loadObject(type: StoredObjectType, id: Hex64, signal?: AbortSignal): Promise<unknown> {
    const name = objectKey(type, id);
    const bytes = await getBounded(this.site, name, OBJECT_LIMITS[type], 'object', signal);
    if (sha256Hex(bytes) !== id) {
      throw new IntegrityError(`object ${name} does not match its name (SHA-256)`, { object: name });
    }
    return decodeObject(this.key, type, bytes, name);
  }

  /** Ids of the index or snapshot objects at the site; keys that are not ids are ignored. */
  async *listObjects(type: StoredObjectType, signal?: AbortSignal): AsyncIterable<Hex64> {
    const prefix = objectPrefix(type);
    for await (const info of this.site.list(prefix, { signal })) {
      const id = info.key.slice(prefix.length);
      if (isHex64(id)) yield id;
    }
  }

  /** Stores an encoded pack; returns its id (the SHA-256 of its bytes). */
  async savePack(bytes: Uint8Array, signal?: AbortSignal): Promise<Hex64> {
    const id = sha256Hex(bytes);
    await putContentAddressed(this.site, packKey(id), bytes, signal);
    return id;
  }

  /**
   * savePack() for a pack whose id its writer already computed (PackWriter.finish hashes the
   * bytes it made): hashing 16 MiB again costs ~10 ms of the main thread per pack. A wrong id
   * would only store the pack under a name `verify` flags; it cannot change what a name holds.
   */
  async savePackAs(id: Hex64, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    await putContentAddressed(this.site, packKey(id), bytes, signal);
  }

  /** Exactly `length` bytes of a pack from `offset`; IntegrityError if the pack ends before. */
  /** `into`: a buffer the site may read into (GetOptions.into); the result may be a view of it. */
  async loadPackRange(packId: Hex64, offset: number, length: number, into?: Uint8Array): Promise<Buffer> {
    const name = packKey(packId);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0) {
      throw new RangeError(`bad range ${offset}+${length} of pack ${name}`);
    }
    const bytes = await this.site.get(name, into === undefined ? { range: { offset, length } } : { range: { offset, length }, into });
    if (bytes.byteLength !== length) {
      throw new IntegrityError(`pack ${name} ends before byte ${offset + length}`, { object: name });
    }
    return bytes;
  }

  /** The stored size of a pack. */
  async packSize(packId: Hex64, signal?: AbortSignal): Promise<number> {
    return (await this.site.head(packKey(packId), { signal })).size;
  }

  /** The site key of a pack (`data/<hh>/<id>`). */
  packKey(packId: Hex64): string {
    return packKey(packId);
  }

  /** Same as packKey(): the name readers put in their errors. */
  packObjectName(packId: Hex64): string {
    return packKey(packId);
  }
}

async function refuseExisting(site: Site): Promise<void> {
  const hasConfig = await site.head(CONFIG_KEY).then(
    () => true,
    (err: unknown) => {
      if (err instanceof NotFoundError) return false;
      throw err;
    },
  );
  if (hasConfig) throw new RepositoryExistsError(`site ${site.name} already holds a repository`, { object: CONFIG_KEY });
  for await (const info of site.list(KEYS_PREFIX)) {
    throw new RepositoryExistsError(`site ${site.name} already holds key files (${info.key}): a repository or the remains of one`, {
      object: info.key,
      hint: 'open it with georep key list, or point init at an empty site',
    });
  }
}

/** config decoded with `key`; IntegrityError when it does not authenticate or names another repository. */
function readConfig(key: RootKey, keyId: Hex64, bytes: Buffer): RepositoryConfig {
  let value: unknown;
  try {
    value = decodeObject(key, 'config', bytes, CONFIG_KEY);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    throw new IntegrityError(
      `config does not authenticate with the key from ${keyFileKey(keyId)}: config was damaged or tampered with, or that key file belongs to another repository`,
      { object: CONFIG_KEY, cause: err },
    );
  }
  const config = validateConfig(value, CONFIG_KEY);
  if (config.id !== key.repositoryId) {
    throw new IntegrityError(`config names repository ${config.id}, key file ${keyFileKey(keyId)} repository ${key.repositoryId}`, {
      object: CONFIG_KEY,
    });
  }
  return config;
}
