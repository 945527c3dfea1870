// BandwidthLimitSite: paces the bytes of puts and gets through a TokenBucket.
//
// - A streamed put is paced as it flows: each chunk waits for its tokens before the inner site
//   reads it, so the transfer itself runs at the rate. A Uint8Array put takes its tokens first,
//   then goes at full speed; over many puts the average holds.
// - A get takes tokens for the bytes it returned, after they arrived (the size is not known
//   before): the next transfer waits for this one's debt, so again the average holds.
// - Each attempt of a retried put spends tokens: retried bytes cross the link too.
// - Calls without a body (list, head, delete, extendRetention) pass unpaced.
// - Buckets belong to the caller, who may share one between several sites or jobs (a per-link
//   limit) and change its rate while transfers run (a schedule). Pass { put, get } to limit the
//   two directions separately; a bucket left out means no limit that way.
import type { GetOptions, PutBody, PutOptions, PutResult, Site } from '../site.ts';
import { mapBody } from './body.ts';
import { ForwardingSite } from './forwarding.ts';
import type { TokenBucket } from './token-bucket.ts';

export interface BandwidthLimits {
  put?: TokenBucket;
  get?: TokenBucket;
}

export class BandwidthLimitSite extends ForwardingSite {
  private readonly limits: BandwidthLimits;

  /** One bucket limits both directions together; or give one per direction. */
  constructor(inner: Site, limits: TokenBucket | BandwidthLimits) {
    super(inner);
    this.limits = isBucket(limits) ? { put: limits, get: limits } : limits;
  }

  override async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const bytes = await this.inner.get(key, options);
    await this.limits.get?.take(bytes.length, options.signal);
    return bytes;
  }

  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const bucket = this.limits.put;
    if (bucket === undefined) return this.inner.put(key, body, options);
    if (body instanceof Uint8Array) {
      await bucket.take(body.byteLength, options.signal);
      return this.inner.put(key, body, options);
    }
    const { signal } = options;
    const paced = mapBody(body, async function* (chunks) {
      for await (const chunk of chunks) {
        await bucket.take(chunk.byteLength, signal);
        yield chunk;
      }
    });
    return this.inner.put(key, paced, options);
  }
}

function isBucket(limits: TokenBucket | BandwidthLimits): limits is TokenBucket {
  return typeof (limits as TokenBucket).take === 'function';
}
