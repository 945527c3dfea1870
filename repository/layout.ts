// Where each kind of object lives at a site (FORMAT.md section 1), the one way to store a
// content-addressed object, and the one way to read a size-bounded one. Ids are checked here because they also arrive from users and from
// listings of sites we do not trust, and become parts of keys.
import { UsageError } from '../core/errors.ts';
import { PreconditionFailedError } from '../sites/errors.ts';
import type { Site } from '../sites/site.ts';
import { isHex64 } from './crypto/hash.ts';
import { IntegrityError } from './errors.ts';
import type { Hex64 } from './types.ts';

/** The encrypted objects stored by content address (config has its fixed name). */
export type StoredObjectType = 'index' | 'snapshot';

export const CONFIG_KEY = 'config';
export const KEYS_PREFIX = 'keys/';
export const DATA_PREFIX = 'data/';
const OBJECT_PREFIX: Record<StoredObjectType, string> = { index: 'index/', snapshot: 'snapshots/' };

export function keyFileKey(id: Hex64): string {
  return `${KEYS_PREFIX}${checkId(id)}`;
}

export function packKey(id: Hex64): string {
  return `${DATA_PREFIX}${checkId(id).slice(0, 2)}/${id}`;
}

export function objectPrefix(type: StoredObjectType): string {
  return OBJECT_PREFIX[type];
}

export function objectKey(type: StoredObjectType, id: Hex64): string {
  return `${OBJECT_PREFIX[type]}${checkId(id)}`;
}

/**
 * Stores `bytes` under `key`, which names their SHA-256. create-only, so nothing is ever
 * overwritten; PreconditionFailed means the name is taken, and a name is its content, so the
 * object is already stored (the verifier, not the writer, checks copies for damage).
 */
export async function putContentAddressed(site: Site, key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  try {
    await site.put(key, bytes, { createOnly: true, signal });
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
  }
}

/**
 * The whole object at `key`, refused with IntegrityError if it is larger than `limit`: a ranged
 * read of limit + 1 bytes, so a hostile or damaged site cannot make us download more than that.
 */
export async function getBounded(site: Site, key: string, limit: number, what: string, signal?: AbortSignal): Promise<Buffer> {
  const bytes = await site.get(key, { range: { offset: 0, length: limit + 1 }, signal });
  if (bytes.byteLength > limit) {
    throw new IntegrityError(`${what} ${key} is larger than ${limit} bytes, more than it may be`, { object: key });
  }
  return bytes;
}

function checkId(id: Hex64): Hex64 {
  if (!isHex64(id)) throw new UsageError(`${JSON.stringify(id)} is not an object id (64 lowercase hex digits)`);
  return id;
}
