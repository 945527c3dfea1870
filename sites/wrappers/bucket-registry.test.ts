import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { BucketRegistry } from './bucket-registry.ts';

describe('BucketRegistry', () => {
  it('gives every caller of one key the same bucket, and applies a changed rate to it', () => {
    const registry = new BucketRegistry(new ManualClock(0));
    const a = registry.bucket('site:x', 1000);
    expect(registry.bucket('site:x', 1000)).toBe(a);
    expect(registry.bucket('site:y', 1000)).not.toBe(a);
    expect(registry.bucket('site:x', 2000)).toBe(a);
    expect(a.bytesPerSecond).toBe(2000);
    expect(registry.size).toBe(2);
  });
});
