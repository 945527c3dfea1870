import { describe, expect, it } from 'vitest';
import { freeIfWhole, freeNow, keptCopy } from './gc.ts';

describe('freeNow / freeIfWhole', () => {
  it('detaches a buffer that is wholly the caller\'s, so its memory goes back at once', () => {
    const bytes = Buffer.allocUnsafeSlow(1024 * 1024);
    freeIfWhole(bytes);
    expect(bytes.buffer.byteLength).toBe(0);
    expect(bytes.length).toBe(0);
    const other = new Uint8Array(64);
    freeNow(other.buffer);
    expect(other.byteLength).toBe(0);
  });

  it('leaves slices alone: of Node\'s shared pool, or of a larger buffer', () => {
    const pooled = Buffer.from('small');
    const neighbour = Buffer.from('neighbour');
    freeIfWhole(pooled);
    expect(pooled.toString()).toBe('small');
    expect(neighbour.toString()).toBe('neighbour');
    const big = Buffer.alloc(4096, 7);
    const part = big.subarray(0, 1024);
    freeIfWhole(part);
    expect(big.length).toBe(4096);
    expect(part.every((b) => b === 7)).toBe(true);
  });

  it('ignores shared memory, which cannot be detached', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(16));
    freeIfWhole(shared);
    expect(shared.byteLength).toBe(16);
  });
});

describe('keptCopy', () => {
  it('copies small bytes into a buffer of their own, not a slice of the shared pool slab', () => {
    const pooled = Buffer.from('a salt of thirty-two bytes......');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length); // the premise: Node pools it
    const kept = keptCopy(pooled.subarray(2, 10));
    expect(kept.buffer.byteLength).toBe(8);
    expect(kept.byteOffset).toBe(0);
    expect(kept.toString()).toBe('salt of ');
    pooled.fill(0);
    expect(kept.toString()).toBe('salt of ');
  });
});
