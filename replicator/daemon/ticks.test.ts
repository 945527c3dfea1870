import { describe, expect, it } from 'vitest';
import type { Contract } from '../../policies/contract.ts';
import { dueTicks, latestTick } from './ticks.ts';

const at = (iso: string): Date => new Date(iso);
const contract = (schedule: string, scrub: string, drill: string): Contract =>
  ({ schedule, verify: { scrub, drill, deepSamplePercent: 5, drillSites: 'rotate' } }) as unknown as Contract;

describe('latestTick', () => {
  it('is the newest firing at or before now, in UTC', () => {
    expect(latestTick('*/15 * * * *', at('2026-03-01T10:44:59Z'), at('2026-01-01T00:00:00Z'))).toEqual(at('2026-03-01T10:30:00Z'));
    expect(latestTick('*/15 * * * *', at('2026-03-01T10:45:00Z'), at('2026-01-01T00:00:00Z'))).toEqual(at('2026-03-01T10:45:00Z'));
    expect(latestTick('0 3 * * *', at('2026-03-01T02:59:00Z'), at('2026-01-01T00:00:00Z'))).toEqual(at('2026-02-28T03:00:00Z'));
  });

  it('runs missed ticks once: after a long outage only the latest is due', () => {
    // A daemon down from 01:00 to 09:20 on an hourly schedule: one tick (09:00), not eight.
    expect(latestTick('0 * * * *', at('2026-03-01T09:20:00Z'), at('2026-01-01T00:00:00Z'))).toEqual(at('2026-03-01T09:00:00Z'));
  });

  it('is nothing before the contract was first applied', () => {
    expect(latestTick('0 4 * * 0', at('2026-03-03T12:00:00Z'), at('2026-03-02T00:00:00Z'))).toBeNull();
  });
});

describe('dueTicks', () => {
  it('gives each kind of each contract at most one tick, from its own cron', () => {
    const due = dueTicks(
      [
        { name: 'a', contract: contract('*/5 * * * *', '0 3 * * *', '0 4 * * 0'), since: at('2026-01-01T00:00:00Z') },
        { name: 'b', contract: contract('0 * * * *', '0 3 * * *', '0 4 * * 0'), since: at('2026-03-01T10:30:00Z') },
      ],
      at('2026-03-01T10:47:00Z'), // a Sunday
    );
    expect(due.map((d) => `${d.contract} ${d.kind} ${d.tick.toISOString()}`)).toEqual([
      'a snapshot 2026-03-01T10:45:00.000Z',
      'a verify 2026-03-01T03:00:00.000Z',
      'a drill 2026-03-01T04:00:00.000Z',
    ]);
  });
});
