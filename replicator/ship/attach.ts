// Repository identity on several sites: every target holds the SAME repository (config and key
// files byte for byte), so a pack sealed once is valid at each of them. attachRepository() copies
// `config` and `keys/*` from a site that has the repository to one that has none (create-only,
// each key file checked against its content address), and refuses a site holding another one.
//
// Order: key files first, then config; so a site never has a config without a key (the same
// order as Repository.init).
import { describeError } from '../../core/errors.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { CONFIG_KEY, getBounded, KEYS_PREFIX, putContentAddressed } from '../../repository/layout.ts';
import { decodeObject, OBJECT_LIMITS } from '../../repository/object-codec.ts';
import type { Repository } from '../../repository/repository.ts';
import { validateConfig } from '../../repository/config.ts';
import { NotFoundError, PreconditionFailedError } from '../../sites/errors.ts';
import type { Site } from '../../sites/site.ts';
import { CopyIntegrityError, ForeignRepositoryError } from './errors.ts';

export type AttachOutcome = 'attached' | 'same';

/**
 * Makes `to` hold `from`'s repository. 'attached': config and key files were copied; 'same': it
 * already held it (missing key files are still copied). ForeignRepositoryError when it holds
 * another repository (named when `password` opens it, the way the operator would tell them apart).
 */
export async function attachRepository(
  from: Repository,
  to: Site,
  options: { openOther?: (site: Site) => Promise<string> } = {},
): Promise<AttachOutcome> {
  const source = await getBounded(from.site, CONFIG_KEY, OBJECT_LIMITS.config, 'object');
  const existing = await readConfigBytes(to);
  if (existing !== undefined && !existing.equals(source)) {
    await refuseForeign(from, to, existing, options.openOther);
  }
  await copyKeyFiles(from.site, to);
  if (existing !== undefined) return 'same';
  try {
    await to.put(CONFIG_KEY, source, { createOnly: true });
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
    // Someone attached (or initialised) it meanwhile: fine if it is ours.
    const now = await readConfigBytes(to);
    if (now === undefined || !now.equals(source)) await refuseForeign(from, to, now ?? Buffer.alloc(0), options.openOther);
    return 'same';
  }
  return 'attached';
}

async function readConfigBytes(site: Site): Promise<Buffer | undefined> {
  try {
    return await getBounded(site, CONFIG_KEY, OBJECT_LIMITS.config, 'object');
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** Throws unless `bytes` is a config of `from`'s repository that merely differs in encoding. */
async function refuseForeign(
  from: Repository,
  to: Site,
  bytes: Buffer,
  openOther: ((site: Site) => Promise<string>) | undefined,
): Promise<void> {
  const ours = from.config.id;
  try {
    const config = validateConfig(decodeObject(from.key, 'config', bytes, CONFIG_KEY), CONFIG_KEY);
    if (config.id === ours) return;
  } catch {
    // Does not authenticate with our key: another root key, so another repository.
  }
  let theirs = 'another repository (its id is sealed by a password this one does not open)';
  if (openOther !== undefined) {
    try {
      theirs = `repository ${await openOther(to)}`;
    } catch (err) {
      theirs += `; ${describeError(err)}`;
    }
  }
  throw new ForeignRepositoryError(`site ${to.name} holds ${theirs}, not repository ${ours}`);
}

async function copyKeyFiles(from: Site, to: Site): Promise<void> {
  const present = new Set<string>();
  for await (const info of to.list(KEYS_PREFIX)) present.add(info.key);
  for await (const info of from.list(KEYS_PREFIX)) {
    if (present.has(info.key)) continue;
    const id = info.key.slice(KEYS_PREFIX.length);
    const bytes = await getBounded(from, info.key, 64 * 1024, 'key file');
    if (sha256Hex(bytes) !== id) {
      throw new CopyIntegrityError(`key file ${info.key} at ${from.name} does not match its name (SHA-256): not copied`);
    }
    await putContentAddressed(to, info.key, bytes);
  }
}
