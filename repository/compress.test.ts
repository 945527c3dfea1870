import { randomBytes } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressForStorage, compressForStorageAsync, decompressStored } from './compress.ts';
import { IntegrityError } from './errors.ts';

const CSV = Buffer.from('id,lat,lon,depth_m,station\n' + Array.from({ length: 5000 }, (_, i) => `${i},47.${i % 97},7.${i % 89},${i % 5}.2,ST-${i % 300}`).join('\n'));

describe('compression for storage', () => {
  it('compresses text and stores random data raw', async () => {
    for (const compress of [compressForStorage, compressForStorageAsync]) {
      const text = await compress(CSV);
      expect(text.compression).toBe(1);
      expect(text.bytes.length).toBeLessThan(CSV.length / 2);
      expect(decompressStored(text.bytes, 1, CSV.length, 'x')).toEqual(CSV);
      const noise = randomBytes(100_000);
      const raw = await compress(noise);
      expect(raw.compression).toBe(0);
      expect(raw.bytes).toBe(noise);
      expect(decompressStored(raw.bytes, 0, noise.length, 'x')).toEqual(noise);
      expect((await compress(Buffer.alloc(0))).compression).toBe(0);
    }
  });

  it('stores raw unless zstd saves at least 1/32', () => {
    // 31/32 random, 1/32 zeros: zstd saves a little under 1/32.
    const mostlyNoise = Buffer.concat([randomBytes(31 * 1024), Buffer.alloc(1024)]);
    expect(compressForStorage(mostlyNoise).compression).toBe(0);
    const halfNoise = Buffer.concat([randomBytes(16 * 1024), Buffer.alloc(16 * 1024)]);
    expect(compressForStorage(halfNoise).compression).toBe(1);
  });

  it('refuses a frame that inflates past its announced length, or garbage', () => {
    const bomb = zstdCompressSync(Buffer.alloc(10_000_000));
    const expectDamaged = (fn: () => unknown): void => {
      expect(fn).toThrow(IntegrityError);
      expect(fn).toThrow('data/ab/abc');
    };
    expectDamaged(() => decompressStored(bomb, 1, 1000, 'data/ab/abc'));
    expectDamaged(() => decompressStored(bomb, 1, 10_000_001, 'data/ab/abc'));
    expectDamaged(() => decompressStored(Buffer.from('not zstd'), 1, 8, 'data/ab/abc'));
    expectDamaged(() => decompressStored(bomb.subarray(0, bomb.length - 3), 1, 10_000_000, 'data/ab/abc'));
    expectDamaged(() => decompressStored(Buffer.from('raw'), 0, 4, 'data/ab/abc'));
  });
});
