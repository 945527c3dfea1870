// A site that writes and lists at `primary` (staging) and, for reads only, falls back to other
// sites when primary has no such object. The snapshot pipeline and the tree walk of shipping read
// tree blobs of packs that left staging long ago (they are at the targets) through it. Reads are
// safe to take from anywhere: objects are content-addressed and every blob read is authenticated.
import { NotFoundError } from '../../sites/errors.ts';
import type { GetOptions, ObjectInfo, OpOptions, Site } from '../../sites/site.ts';
import { ForwardingSite } from '../../sites/wrappers/forwarding.ts';

export class ReadFallbackSite extends ForwardingSite {
  private readonly fallbacks: readonly Site[];

  constructor(primary: Site, fallbacks: readonly Site[]) {
    super(primary);
    this.fallbacks = fallbacks;
  }

  override head(key: string, options?: OpOptions): Promise<ObjectInfo> {
    return this.first((site) => site.head(key, options));
  }

  override get(key: string, options?: GetOptions): Promise<Buffer> {
    return this.first((site) => site.get(key, options));
  }

  private async first<T>(op: (site: Site) => Promise<T>): Promise<T> {
    let notFound: unknown;
    for (const site of [this.inner, ...this.fallbacks]) {
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
