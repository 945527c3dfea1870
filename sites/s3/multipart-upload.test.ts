import { describe, expect, it } from 'vitest';
import { MAX_PART, MAX_PARTS, MIN_PART, partSizeFor } from './multipart-upload.ts';

describe('partSizeFor', () => {
  const MiB = 1024 * 1024;
  it('takes the wanted size, at least 5 MiB', () => {
    expect(partSizeFor(6 * 1024 * MiB)).toBe(64 * MiB);
    expect(partSizeFor(6 * 1024 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(20 * MiB, MiB)).toBe(MIN_PART);
  });
  it('grows so that 10,000 parts hold the object, up to S3 largest object', () => {
    const fiveTiB = 5 * 1024 * 1024 * MiB;
    const size = partSizeFor(fiveTiB);
    expect(size * MAX_PARTS).toBeGreaterThanOrEqual(fiveTiB);
    expect(size % MiB).toBe(0);
    expect(size).toBeLessThanOrEqual(MAX_PART);
  });
});
