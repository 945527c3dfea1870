// The key files at a site: listing them, reading them back checked against their names, and
// finding the one a password opens. Anyone with write access to a site can add key files, so a
// damaged, weak or foreign key file is skipped (and reported), never trusted or fatal on its own.
import { NotFoundError } from '../sites/errors.ts';
import type { Site } from '../sites/site.ts';
import { isHex64, sha256Hex } from './crypto/hash.ts';
import { RootKey } from './crypto/root-key.ts';
import { FormatError, IntegrityError, WeakKeyError, WrongPasswordError, type RepositoryErrorOptions } from './errors.ts';
import { describeKeyFile, kdfProblem, MAX_KEY_FILE_BYTES, openKeyFile, type UnwrappedKey } from './keyfile.ts';
import { getBounded, KEYS_PREFIX, keyFileKey } from './layout.ts';
import type { Hex64 } from './types.ts';

type KeyProblem = IntegrityError | FormatError | WeakKeyError;

/** A key file that was skipped, and why. */
export interface SkippedKey {
  id: Hex64;
  error: KeyProblem;
}

/** The key a password opened, the key file it came from, and the key files passed over on the way. */
export interface Unlocked<T> {
  key: RootKey;
  keyId: Hex64;
  /** What `check` returned for this key. */
  value: T;
  skipped: SkippedKey[];
}

/** Ids of the key files at the site, sorted; names that are not ids are not key files. */
export async function listKeyIds(site: Site): Promise<Hex64[]> {
  const ids: Hex64[] = [];
  for await (const info of site.list(KEYS_PREFIX)) {
    const id = info.key.slice(KEYS_PREFIX.length);
    if (isHex64(id)) ids.push(id);
  }
  return ids.sort();
}

/** The bytes of keys/<id>, bounded and checked against the name. NotFoundError if absent. */
export async function readKeyFile(site: Site, id: Hex64): Promise<Buffer> {
  const name = keyFileKey(id);
  const bytes = await getBounded(site, name, MAX_KEY_FILE_BYTES, 'key file');
  if (sha256Hex(bytes) !== id) {
    throw new IntegrityError(`key file ${name} does not match its name (SHA-256)`, { object: name });
  }
  return bytes;
}

/**
 * Finds the key file `password` opens and whose key `check` accepts (`check` decodes config: a key
 * file of another repository opens but fails there, throwing IntegrityError). Every key file is
 * read and checked first, so all damaged or weak ones are reported whichever one opens. Without
 * success: the first key that opened but failed `check`, else the first weak key, else, if no key
 * file was sound enough to try, the first problem, else WrongPasswordError.
 */
export async function unlock<T>(
  site: Site,
  ids: readonly Hex64[],
  password: string,
  check: (key: RootKey, keyId: Hex64) => T,
): Promise<Unlocked<T>> {
  const skipped: SkippedKey[] = [];
  const sound: { id: Hex64; bytes: Buffer }[] = [];
  const read = await Promise.all(ids.map(async (id) => ({ id, result: await readSoundKeyFile(site, id) })));
  for (const { id, result } of read) {
    if (result === undefined) continue;
    if ('bytes' in result) sound.push({ id, bytes: result.bytes });
    else skipped.push({ id, error: result.error });
  }
  const foreign: IntegrityError[] = [];
  for (const { id, bytes } of sound) {
    let unwrapped: UnwrappedKey;
    try {
      unwrapped = await openKeyFile(bytes, password, keyFileKey(id));
    } catch (err) {
      if (err instanceof WrongPasswordError) continue;
      throw err;
    }
    const key = new RootKey(unwrapped.root, unwrapped.repositoryId);
    unwrapped.root.fill(0);
    try {
      return { key, keyId: id, value: check(key, id), skipped };
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      foreign.push(err);
      skipped.push({ id, error: err });
    }
  }
  const weak = skipped.find((s) => s.error instanceof WeakKeyError);
  if (foreign[0] !== undefined) throw foreign[0];
  if (weak !== undefined) throw weak.error;
  if (sound.length === 0 && skipped[0] !== undefined) throw skipped[0].error;
  const options: RepositoryErrorOptions = {};
  if (skipped.length > 0) {
    options.hint = `${skipped.length} damaged key file(s) were skipped (${skipped.map((s) => s.id.slice(0, 12)).join(', ')}): if the password is theirs, repair them from a healthy site`;
  }
  throw new WrongPasswordError(undefined, options);
}

/** The bytes of a key file worth trying, its problem, or undefined if it vanished since the listing. */
async function readSoundKeyFile(site: Site, id: Hex64): Promise<{ bytes: Buffer } | { error: KeyProblem } | undefined> {
  try {
    const bytes = await readKeyFile(site, id);
    const weak = kdfProblem(describeKeyFile(bytes, keyFileKey(id)).kdf, keyFileKey(id));
    return weak === undefined ? { bytes } : { error: weak };
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    if (err instanceof IntegrityError || err instanceof FormatError || err instanceof WeakKeyError) return { error: err };
    throw err;
  }
}
