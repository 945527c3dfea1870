// A site that writes and lists at `primary` (staging) and, for reads only, falls back to other
// sites when primary has no such object. The snapshot pipeline and the tree walk of shipping read
// tree blobs of packs that left staging long ago (they are at the targets) through it. Reads are
// safe to take from anywhere: objects are content-addressed and every blob read is authenticated.
//
// With a `cache` (a folder in the georep home), index objects read from a fallback are kept there
// and served from it the next time: every snapshot --to and ship reads every index object of the
// repository (one per snapshot ever taken), and staging keeps none once its snapshots are shipped,
// so without it each command fetched them all from a target again. An index object's name is the
// SHA-256 of its bytes, so a cached copy is checked against its name here (a damaged one is removed
// and fetched again) and then authenticated by the reader like any other.
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { NotFoundError } from '../../sites/errors.ts';
import type { GetOptions, ObjectInfo, OpOptions, Site } from '../../sites/site.ts';
import { ForwardingSite } from '../../sites/wrappers/forwarding.ts';

const CACHED_PREFIX = 'index/';

export class ReadFallbackSite extends ForwardingSite {
  private readonly fallbacks: readonly Site[];
  private readonly cache: Site | undefined;

  constructor(primary: Site, fallbacks: readonly Site[], options: { cache?: Site } = {}) {
    super(primary);
    this.fallbacks = fallbacks;
    this.cache = options.cache;
  }

  override head(key: string, options?: OpOptions): Promise<ObjectInfo> {
    return this.first((site) => site.head(key, options));
  }

  override get(key: string, options?: GetOptions): Promise<Buffer> {
    // Readers take whole objects as a range from 0 (getBounded: the object's limit + 1 byte).
    if (this.cache === undefined || (options?.range !== undefined && options.range.offset !== 0) || !key.startsWith(CACHED_PREFIX)) {
      return this.first((site) => site.get(key, options));
    }
    return this.cachedGet(this.cache, key, options);
  }

  private async cachedGet(cache: Site, key: string, options: GetOptions | undefined): Promise<Buffer> {
    let notFound: unknown;
    try {
      return await this.inner.get(key, options);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      notFound = err;
    }
    const id = key.slice(CACHED_PREFIX.length);
    const length = options?.range?.length;
    const cached = await cache.get(key, options?.signal === undefined ? {} : { signal: options.signal }).catch(() => undefined);
    if (cached !== undefined) {
      if (sha256Hex(cached) === id) return length === undefined ? cached : cached.subarray(0, length);
      await cache.delete(key).catch(() => undefined);
    }
    const bytes = await this.first((site) => site.get(key, options), this.fallbacks, notFound);
    // Only whole objects that are what their name says are kept (a bad copy at a target is the
    // reader's to report; a range shorter than the object never hashes to its name).
    if (sha256Hex(bytes) === id) await cache.put(key, bytes).catch(() => undefined);
    return bytes;
  }

  private async first<T>(op: (site: Site) => Promise<T>, sites: readonly Site[] = [this.inner, ...this.fallbacks], primaryNotFound?: unknown): Promise<T> {
    let notFound: unknown = primaryNotFound;
    for (const site of sites) {
      try {
        return await op(site);
      } catch (err) {
        // A fallback that is down is skipped like one that lacks the object; the first NotFound
        // (primary's) is what the caller sees when nobody has it.
        if (site === this.inner && !(err instanceof NotFoundError)) throw err;
        notFound ??= err;
      }
    }
    throw notFound;
  }
}
