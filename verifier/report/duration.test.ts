import { describe, expect, it } from 'vitest';
import { dur } from './duration.ts';

describe('dur', () => {
  it.each([
    [null, '-'],
    [0, '0s'],
    [-5, '0s'],
    [850, '850ms'],
    [2_543, '2.5s'],
    [9_949, '9.9s'],
    [9_999, '10s'],
    [65_400, '1m5s'],
    [601_000, '10m'],
    [5_400_000, '1h30m'],
    [10_860_000 + 1_000, '3h1m'],
    [3 * 86_400_000 + 1_800_000, '3d1h'],
  ] as [number | null, string][])('%s ms -> %s', (ms, text) => expect(dur(ms)).toBe(text));
});
