import { describe, expect, it } from 'vitest';
import type { Contract } from '../../policies/contract.ts';
import { dueGlobalTicks, dueTicks, extendLocksCron, latestTick } from './ticks.ts';

const at = (iso: string): Date => new Date(iso);
const contract = (schedule: string, scrub: string, drill: string, lockDays?: number): Contract =>
  ({
    schedule,
    verify: { scrub, drill, deepSamplePercent: 5, drillSites: 'rotate' },
    immutability: lockDays === undefined ? null : { mode: 'compliance', days: lockDays },
  }) as unknown as Contract;

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

describe('extend-locks and prune ticks', () => {
  it('extends locks only for contracts with immutability: daily from 4 days, hourly below', () => {
    expect(extendLocksCron(30)).toBe('20 2 * * *');
    expect(extendLocksCron(4)).toBe('20 2 * * *');
    expect(extendLocksCron(3)).toBe('20 * * * *');
    const due = dueTicks(
      [
        { name: 'locked', contract: contract('0 0 1 1 *', '0 0 1 1 *', '0 0 1 1 *', 30), since: at('2026-03-01T00:00:00Z') },
        { name: 'short', contract: contract('0 0 1 1 *', '0 0 1 1 *', '0 0 1 1 *', 2), since: at('2026-03-01T00:00:00Z') },
        { name: 'open', contract: contract('0 0 1 1 *', '0 0 1 1 *', '0 0 1 1 *'), since: at('2026-03-01T00:00:00Z') },
      ],
      at('2026-03-02T10:47:00Z'),
    );
    expect(due.map((d) => `${d.contract} ${d.kind} ${d.tick.toISOString()}`)).toEqual([
      'locked extend-locks 2026-03-02T02:20:00.000Z',
      'short extend-locks 2026-03-02T10:20:00.000Z',
    ]);
  });

  it('prunes globally on its own cron, never before the first contract, and not when off', () => {
    const contracts = [
      { name: 'a', contract: contract('* * * * *', '0 3 * * *', '0 4 * * 0'), since: at('2026-03-01T12:00:00Z') },
      { name: 'b', contract: contract('* * * * *', '0 3 * * *', '0 4 * * 0'), since: at('2026-03-05T12:00:00Z') },
    ];
    expect(dueGlobalTicks('0 3 * * *', contracts, at('2026-03-06T10:00:00Z'))).toEqual([
      { contract: null, kind: 'prune', tick: at('2026-03-06T03:00:00Z') },
    ]);
    expect(dueGlobalTicks('0 3 * * *', contracts, at('2026-03-01T20:00:00Z'))).toEqual([]);
    expect(dueGlobalTicks(null, contracts, at('2026-03-06T10:00:00Z'))).toEqual([]);
    expect(dueGlobalTicks('0 3 * * *', [], at('2026-03-06T10:00:00Z'))).toEqual([]);
  });
});
