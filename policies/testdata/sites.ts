// The fixed partner sites the corpus and placement tests are checked against. Coordinates are the
// cities': chengdu-a and mianyang-b are about 110 km apart, xian-c about 610 km from chengdu-a.
import type { KnownSite } from '../known-site.ts';

export const TEST_SITES: KnownSite[] = [
  { name: 'chengdu-a', region: 'sichuan', lat: 30.66, lon: 104.07, jurisdiction: 'CN', healthy: true, objectLock: true, quotaBytes: 2e12, usedBytes: 5e11 },
  { name: 'mianyang-b', region: 'sichuan', lat: 31.47, lon: 104.68, jurisdiction: 'CN', healthy: true, objectLock: true },
  { name: 'xian-c', region: 'shaanxi', lat: 34.34, lon: 108.94, jurisdiction: 'CN', healthy: true, objectLock: false },
  { name: 'lanzhou-d', region: 'gansu', lat: 36.06, lon: 103.83, jurisdiction: 'CN', healthy: false, healthNote: '2 failed uploads in the last 24h', objectLock: true },
  { name: 'hongkong-e', region: 'hk', lat: 22.32, lon: 114.17, jurisdiction: 'HK', healthy: true, objectLock: true },
  { name: 'nocoords-f', region: 'yunnan', jurisdiction: 'CN', healthy: true, objectLock: true },
  { name: 'full-g', region: 'chongqing', lat: 29.56, lon: 106.55, jurisdiction: 'CN', healthy: true, objectLock: true, quotaBytes: 1e12, usedBytes: 1e12 },
];
