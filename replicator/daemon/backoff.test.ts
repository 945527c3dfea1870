import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_BACKOFF } from './backoff.ts';

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => backoffMs(n) / 1000)).toEqual([30, 60, 120, 240, 480, 900, 900, 900, 900]);
    expect(backoffMs(3, { baseMs: 100, capMs: 250 })).toBe(250);
    expect(backoffMs(0, DEFAULT_BACKOFF)).toBe(30_000);
  });

  it('refuses a policy that cannot work', () => {
    expect(() => backoffMs(1, { baseMs: 0, capMs: 10 })).toThrow(RangeError);
    expect(() => backoffMs(1, { baseMs: 10, capMs: 5 })).toThrow(RangeError);
  });
});
