import { describe, expect, it } from 'vitest';
import { nextRuns } from './cron.ts';
import { orderByPriority } from './tiers.ts';

describe('orderByPriority', () => {
  it('critical before standard before bulk, tightest RPO first, then by name', () => {
    const items = [
      { name: 'archive', tier: 'bulk' as const, rpoMs: 60_000 },
      { name: 'gis-b', tier: 'standard' as const, rpoMs: 3_600_000 },
      { name: 'gis-a', tier: 'standard' as const, rpoMs: 3_600_000 },
      { name: 'alerts', tier: 'critical' as const, rpoMs: 1_800_000 },
      { name: 'rivers', tier: 'critical' as const, rpoMs: 900_000 },
      { name: 'maps', tier: 'standard' as const, rpoMs: 600_000 },
    ];
    expect(orderByPriority(items).map((i) => i.name)).toEqual(['rivers', 'alerts', 'maps', 'gis-a', 'gis-b', 'archive']);
    expect(items[0]?.name).toBe('archive'); // the input is not changed
  });
});

describe('nextRuns', () => {
  it.each([
    ['*/15 * * * *', '2024-01-01T00:07:00Z', ['2024-01-01T00:15:00.000Z', '2024-01-01T00:30:00.000Z', '2024-01-01T00:45:00.000Z']],
    ['0 4 * * 0', '2024-01-01T00:00:00Z', ['2024-01-07T04:00:00.000Z', '2024-01-14T04:00:00.000Z', '2024-01-21T04:00:00.000Z']],
    ['30 0 0 1 * *', '2024-01-15T00:00:00Z', ['2024-02-01T00:00:30.000Z', '2024-03-01T00:00:30.000Z', '2024-04-01T00:00:30.000Z']],
  ])('%s after %s, in UTC', (cron, after, runs) => {
    expect(nextRuns(cron, new Date(after), 3).map((d) => d.toISOString())).toEqual(runs);
  });
});
