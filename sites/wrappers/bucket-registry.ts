// Token buckets shared by every command run in one process: one per key (a site's name, or a
// contract's), made on first use at the rate asked for. The daemon runs several jobs at once
// in-process, and each job's command opens its sites afresh; without a shared bucket each would
// get a full rate of its own and two jobs to one site would use twice its registered bandwidth.
// A rate that changed (the site re-registered with another --bandwidth) is applied to the shared
// bucket at once, waiting transfers included (TokenBucket.setRate).
//
// One process only: daemons on several machines each hold their own buckets, so a site's limit
// is per daemon there (docs/ARCHITECTURE.md, Daemon).
import type { Clock } from '../../core/clock.ts';
import { TokenBucket } from './token-bucket.ts';

export class BucketRegistry {
  private readonly clock: Clock;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The bucket for key, shared by every caller; its rate is bytesPerSecond from now on. */
  bucket(key: string, bytesPerSecond: number): TokenBucket {
    const existing = this.buckets.get(key);
    if (existing === undefined) {
      const made = new TokenBucket(this.clock, { bytesPerSecond });
      this.buckets.set(key, made);
      return made;
    }
    if (existing.bytesPerSecond !== bytesPerSecond) existing.setRate(bytesPerSecond);
    return existing;
  }

  get size(): number {
    return this.buckets.size;
  }
}
