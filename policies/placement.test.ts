import { describe, expect, it } from 'vitest';
import type { Contract } from './contract.ts';
import { distanceKm } from './geo.ts';
import { planPlacement } from './placement.ts';
import { TEST_SITES } from './testdata/sites.ts';

const base: Contract = {
  contract: 'flood',
  dataset: { name: 'flood', source: { type: 'directory', path: '/srv/flood' } },
  tier: 'standard',
  schedule: '*/15 * * * *',
  rpoMs: 3_600_000,
  rtoMs: null,
  copies: 2,
  placement: { sites: [], minRegions: 1, minDistanceKm: 0, jurisdictions: null },
  retention: { keepWithinMs: 0, last: 3, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
  immutability: null,
  verify: { scrub: '0 3 * * *', deepSamplePercent: 5, drill: '0 4 * * 0', drillSites: 'rotate' },
  bandwidthBytesPerSec: null,
};
const contract = (copies: number, placement: Partial<Contract['placement']>, more: Partial<Contract> = {}): Contract => ({
  ...base,
  ...more,
  copies,
  placement: { ...base.placement, ...placement },
});

describe('distanceKm', () => {
  it.each([
    [{ lat: 30.66, lon: 104.07 }, { lat: 34.34, lon: 108.94 }, 610, 620],
    [{ lat: 30.66, lon: 104.07 }, { lat: 31.47, lon: 104.68 }, 100, 115],
    [{ lat: 0, lon: 0 }, { lat: 0, lon: 180 }, 20_000, 20_040],
    [{ lat: 51.5, lon: -0.12 }, { lat: 51.5, lon: -0.12 }, 0, 0],
  ])('%j to %j is %d-%d km', (a, b, lo, hi) => {
    const d = distanceKm(a, b);
    expect(d).toBeGreaterThanOrEqual(lo);
    expect(d).toBeLessThanOrEqual(hi);
  });
});

describe('planPlacement', () => {
  it.each([
    ['the first listed when no rule constrains', contract(2, { sites: ['chengdu-a', 'mianyang-b', 'xian-c'] }), ['chengdu-a', 'mianyang-b']],
    ['two regions skip the second Sichuan site', contract(2, { sites: ['chengdu-a', 'mianyang-b', 'xian-c'], minRegions: 2 }), ['chengdu-a', 'xian-c']],
    ['distance 300 km skips mianyang-b', contract(2, { sites: ['chengdu-a', 'mianyang-b', 'xian-c'], minDistanceKm: 300 }), ['chengdu-a', 'xian-c']],
    ['healthy before listed order', contract(2, { sites: ['lanzhou-d', 'chengdu-a', 'xian-c'] }), ['chengdu-a', 'xian-c']],
    ['an unhealthy site when nothing else works', contract(3, { sites: ['lanzhou-d', 'chengdu-a', 'xian-c'] }), ['chengdu-a', 'xian-c', 'lanzhou-d']],
    ['jurisdiction CN leaves hongkong-e out', contract(2, { sites: ['hongkong-e', 'chengdu-a', 'xian-c'], jurisdictions: ['CN'] }), ['chengdu-a', 'xian-c']],
    ['a full site is passed over', contract(2, { sites: ['full-g', 'chengdu-a', 'mianyang-b'] }), ['chengdu-a', 'mianyang-b']],
    [
      'immutability passes over sites without Object Lock',
      contract(2, { sites: ['xian-c', 'chengdu-a', 'mianyang-b'] }, { immutability: { mode: 'compliance', days: 30, allowSitesWithoutLock: false } }),
      ['chengdu-a', 'mianyang-b'],
    ],
    [
      'unless the contract allows unlocked copies',
      contract(2, { sites: ['xian-c', 'chengdu-a'] }, { immutability: { mode: 'compliance', days: 30, allowSitesWithoutLock: true } }),
      ['xian-c', 'chengdu-a'],
    ],
  ])('%s', (_, c, chosen) => {
    const plan = planPlacement(c, TEST_SITES);
    expect(plan.ok).toBe(true);
    expect(plan.failures).toEqual([]);
    expect(plan.chosen.map((d) => d.site)).toEqual(chosen);
    for (const d of [...plan.chosen, ...plan.spare, ...plan.rejected]) expect(d.reasons.length).toBeGreaterThan(0);
  });

  it.each([
    ['regions', contract(2, { sites: ['chengdu-a', 'mianyang-b'], minRegions: 2 }), 'placement.minRegions', 'only 1 region (sichuan) among the eligible sites, 2 required'],
    ['distance', contract(2, { sites: ['chengdu-a', 'mianyang-b'], minDistanceKm: 300 }), 'placement.minDistanceKm', 'chengdu-a and mianyang-b are 107 km apart'],
    ['jurisdiction', contract(2, { sites: ['chengdu-a', 'hongkong-e'], jurisdictions: ['CN'] }), 'placement.jurisdictions', 'hongkong-e: in HK, outside placement.jurisdictions [CN]'],
    ['no coordinates', contract(2, { sites: ['chengdu-a', 'nocoords-f'], minDistanceKm: 100 }), 'placement.minDistanceKm', 'nocoords-f: no coordinates recorded'],
    [
      'no lock',
      contract(2, { sites: ['chengdu-a', 'xian-c'] }, { immutability: { mode: 'governance', days: 7, allowSitesWithoutLock: false } }),
      'immutability',
      'xian-c: no Object Lock, which immutability requires',
    ],
    ['unregistered', contract(2, { sites: ['chengdu-a', 'atlantis'] }), 'placement.sites', 'atlantis: not a registered site'],
    [
      'regions and distance only jointly',
      // Far-apart pairs exist (chengdu-a/xian-c) and 2 regions exist, but with 3 copies every
      // triple has a pair closer than 300 km or spans too few regions.
      contract(3, { sites: ['chengdu-a', 'mianyang-b', 'xian-c'], minDistanceKm: 300 }),
      'placement.minDistanceKm',
      'no 3 of the eligible sites are pairwise at least 300 km apart',
    ],
  ])('impossible: %s', (_, c, field, words) => {
    const plan = planPlacement(c, TEST_SITES);
    expect(plan.ok).toBe(false);
    expect(plan.chosen).toEqual([]);
    const failure = plan.failures.find((f) => f.path.join('.') === field);
    expect(failure?.message).toContain(words);
  });

  it('is deterministic and explains every chosen site with its distances', () => {
    const c = contract(2, { sites: ['chengdu-a', 'mianyang-b', 'xian-c'], minRegions: 2, minDistanceKm: 300, jurisdictions: ['CN'] });
    const a = planPlacement(c, TEST_SITES);
    expect(planPlacement(c, [...TEST_SITES].reverse())).toEqual(a);
    expect(a.chosen[0]?.reasons).toEqual([
      'in CN, allowed',
      '1500000000000 bytes free of its quota',
      'region sichuan',
      'healthy',
      '613 km from xian-c (at least 300 km required)',
      'the chosen sites span 2 regions (at least 2 required)',
    ]);
    expect(a.spare.map((d) => d.site)).toEqual(['mianyang-b']);
  });
});
