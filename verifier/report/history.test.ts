import { describe, expect, it } from 'vitest';
import type { CommitEvent } from '../../catalog/queries/readiness.ts';
import { rpoSawtooth } from './history.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1);
const at = (m: number): Date => new Date(T0 + m * MIN);
const ev = (site: string, siteAtMin: number, dataAtMin: number): CommitEvent => ({
  site,
  snapshot: 'a'.repeat(64),
  siteAt: at(siteAtMin),
  dataAt: at(dataAtMin),
});
const ages = (points: { at: string; ageMs: number }[]): [number, number][] =>
  points.map((p) => [(Date.parse(p.at) - T0) / MIN, p.ageMs / MIN]);

describe('rpoSawtooth', () => {
  it('rises with the clock and drops at each commit to the snapshot own age', () => {
    const [s] = rpoSawtooth([ev('a', 10, 10), ev('a', 40, 38)], at(0), at(60));
    expect(s?.site).toBe('a');
    expect(ages(s?.points ?? [])).toEqual([
      [10, 0],
      [40, 30],
      [40, 2],
      [60, 22],
    ]);
  });

  it('starts at the window with the commit before it, and ignores an older snapshot committed late', () => {
    const [s] = rpoSawtooth([ev('b', -20, -20), ev('b', 30, -50)], at(0), at(60));
    expect(ages(s?.points ?? [])).toEqual([
      [0, 20],
      [60, 80],
    ]);
  });

  it('gives one series per site, by name, and none for a site without commits', () => {
    const series = rpoSawtooth([ev('z', 5, 5), ev('a', 5, 1)], at(0), at(10));
    expect(series.map((s) => s.site)).toEqual(['a', 'z']);
    expect(rpoSawtooth([], at(0), at(10))).toEqual([]);
  });
});
