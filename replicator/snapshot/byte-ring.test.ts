import { describe, expect, it } from 'vitest';
import { ByteRing, type RingSlot } from './byte-ring.ts';

const bytes = (length: number, fill: number): Buffer => Buffer.alloc(length, fill);

describe('ByteRing', () => {
  it('keeps what it was given until released, in order', () => {
    const ring = new ByteRing(10);
    const a = ring.copy(bytes(4, 1))!;
    const b = ring.copy(bytes(4, 2))!;
    expect(a.bytes).toEqual(bytes(4, 1));
    expect(b.bytes).toEqual(bytes(4, 2));
    expect(ring.held).toBe(8);
    expect(ring.copy(bytes(3, 3))).toBeUndefined();
    ring.release(a.cost);
    // 2 bytes free at the end, 4 at the start: a 3-byte string goes to the start, the end skipped.
    const c = ring.copy(bytes(3, 3))!;
    expect(c.cost).toBe(5);
    expect(c.bytes).toEqual(bytes(3, 3));
    expect(b.bytes).toEqual(bytes(4, 2));
    ring.release(b.cost + c.cost);
    expect(ring.held).toBe(0);
  });

  it('never lets a copy overwrite a slot still held, whatever the order of sizes', () => {
    const ring = new ByteRing(64);
    const held: { slot: RingSlot; fill: number }[] = [];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const fill = step % 251;
      const slot = ring.copy(bytes(1 + next(40), fill));
      if (slot !== undefined) held.push({ slot, fill });
      if (slot === undefined || next(3) === 0) {
        const n = Math.min(held.length, 1 + next(3));
        const released = held.splice(0, n);
        ring.release(released.reduce((sum, r) => sum + r.slot.cost, 0));
      }
      for (const h of held) expect(h.slot.bytes.every((b) => b === h.fill)).toBe(true);
      expect(ring.held).toBeLessThanOrEqual(ring.capacity);
    }
  });

  it('always takes a string as long as its capacity once empty, and refuses a longer one', () => {
    const ring = new ByteRing(16);
    const a = ring.copy(bytes(5, 1))!;
    ring.release(a.cost);
    expect(ring.copy(bytes(16, 2))?.bytes).toEqual(bytes(16, 2));
    expect(() => ring.copy(bytes(17, 3))).toThrow(RangeError);
  });

  it('refuses to release more than it holds', () => {
    const ring = new ByteRing(8);
    ring.copy(bytes(3, 1));
    expect(() => ring.release(4)).toThrow(RangeError);
  });
});
