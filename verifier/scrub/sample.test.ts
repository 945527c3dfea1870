import { describe, expect, it } from 'vitest';
import { parsePercent, samplePacks, type SampleCandidate } from './sample.ts';

const id = (n: number): string => n.toString(16).padStart(64, '0');

describe('samplePacks', () => {
  it('takes never-verified packs first, then the oldest, ceil(n * p / 100) of them', () => {
    const packs: SampleCandidate[] = [
      { id: id(1), verifiedAt: new Date('2026-01-03') },
      { id: id(2), verifiedAt: null },
      { id: id(3), verifiedAt: new Date('2026-01-01') },
      { id: id(4), verifiedAt: new Date('2026-01-02') },
      { id: id(5), verifiedAt: null },
    ];
    expect([...samplePacks(packs, 40)]).toEqual([id(2), id(5)]);
    expect([...samplePacks(packs, 60)]).toEqual([id(2), id(5), id(3)]);
    expect(samplePacks(packs, 1).size).toBe(1);
    expect(samplePacks(packs, 100).size).toBe(5);
    expect(samplePacks([], 25).size).toBe(0);
  });

  it('reads every pack within ceil(100 / p) runs when each run stamps what it read', () => {
    for (const [count, percent] of [[10, 25], [7, 25], [13, 5], [1, 50], [30, 33]] as const) {
      const verifiedAt = new Map<string, Date | null>(Array.from({ length: count }, (_, i) => [id(i), null]));
      const read = new Set<string>();
      const runs = Math.ceil(100 / percent);
      for (let run = 1; run <= runs; run++) {
        const chosen = samplePacks([...verifiedAt].map(([p, at]) => ({ id: p, verifiedAt: at })), percent);
        for (const p of chosen) {
          read.add(p);
          verifiedAt.set(p, new Date(Date.UTC(2026, 0, run)));
        }
      }
      expect(read.size, `${count} packs at ${percent}%`).toBe(count);
    }
  });

  it('refuses a percentage outside (0, 100]', () => {
    expect(() => samplePacks([], 0)).toThrow(RangeError);
    expect(() => samplePacks([], 101)).toThrow(RangeError);
  });
});

describe('parsePercent', () => {
  it('reads 5%, 5 and 12.5%; refuses the rest', () => {
    expect(parsePercent('5%')).toBe(5);
    expect(parsePercent('5')).toBe(5);
    expect(parsePercent('12.5%')).toBe(12.5);
    for (const bad of ['0%', '101%', '-5%', 'five', '5%%', '']) expect(parsePercent(bad), bad).toBeUndefined();
  });
});
