import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from './contract.ts';
import { applyRetention, isoWeek } from './retention.ts';

const NONE: RetentionPolicy = { keepWithinMs: 0, last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ ...NONE, ...p });
const snap = (id: string, iso: string) => ({ id, time: new Date(`${iso}Z`) });
const ids = (r: { snapshot: { id: string } }[]) => r.map((d) => d.snapshot.id);
const H = 3_600_000;

// restic's doc/060_forget.rst: "one backup every Sunday for 12 weeks", same IDs and times.
const SUNDAYS = [
  snap('0a1f9759', '2019-09-01T11:00:00'),
  snap('46cfe4d5', '2019-09-08T11:00:00'),
  snap('f6b1f037', '2019-09-15T11:00:00'),
  snap('eb430a5d', '2019-09-22T11:00:00'),
  snap('8cf1cb9a', '2019-09-29T11:00:00'),
  snap('5d33b116', '2019-10-06T11:00:00'),
  snap('b9553125', '2019-10-13T11:00:00'),
  snap('e1a7b58b', '2019-10-20T11:00:00'),
  snap('8f8018c0', '2019-10-27T11:00:00'),
  snap('59403279', '2019-11-03T11:00:00'),
  snap('dfee9fb4', '2019-11-10T11:00:00'),
  snap('e1ae2f40', '2019-11-17T11:00:00'),
];

describe('applyRetention: restic documentation examples', () => {
  it('--keep-daily 4 on twelve Sundays keeps the last four Sundays', () => {
    const r = applyRetention(policy({ daily: 4 }), SUNDAYS);
    expect(ids(r.keep)).toEqual(['e1ae2f40', 'dfee9fb4', '59403279', '8f8018c0']);
    expect(r.keep.map((d) => d.reasons)).toEqual([['daily 1'], ['daily 2'], ['daily 3'], ['daily 4']]);
    expect(ids(r.forget)).toEqual(['e1a7b58b', 'b9553125', '5d33b116', '8cf1cb9a', 'eb430a5d', 'f6b1f037', '46cfe4d5', '0a1f9759']);
  });

  it('daily backups for 100 years with daily 7, weekly 5, monthly 12, yearly 75', () => {
    // The page: "the most recent 7 daily snapshots and 4 last-day-of-the-week ones (since the 7
    // dailies already include 1 weekly). Additionally, 12 or 11 last-day-of-the-month ... 75 or
    // 74 last-day-of-the-year". Here the last day is Tuesday 2019-12-31, so the 7 dailies
    // (Dec 25-31) hold 2 weekly ones (ISO 2020-W01 and 2019-W52) and 3 more weeks are kept.
    const list = [];
    for (let t = Date.UTC(1920, 0, 1, 12); t <= Date.UTC(2019, 11, 31, 12); t += 24 * H) {
      list.push({ id: new Date(t).toISOString().slice(0, 10), time: new Date(t) });
    }
    const r = applyRetention(policy({ daily: 7, weekly: 5, monthly: 12, yearly: 75 }), list);
    const kept = ids(r.keep);
    expect(kept.slice(0, 7)).toEqual(['2019-12-31', '2019-12-30', '2019-12-29', '2019-12-28', '2019-12-27', '2019-12-26', '2019-12-25']);
    const weeklyOnly = r.keep.filter((d) => d.reasons.every((x) => x.startsWith('weekly'))).map((d) => d.snapshot.id);
    expect(weeklyOnly).toEqual(['2019-12-22', '2019-12-15', '2019-12-08']);
    const monthlyOnly = r.keep.filter((d) => d.reasons.every((x) => x.startsWith('monthly'))).map((d) => d.snapshot.id);
    expect(monthlyOnly).toHaveLength(11); // Nov 30 back to Jan 31, 2019
    const yearlyOnly = r.keep.filter((d) => d.reasons.every((x) => x.startsWith('yearly'))).map((d) => d.snapshot.id);
    expect(yearlyOnly).toHaveLength(74); // 2018-12-31 back to 1945-12-31
    expect(yearlyOnly.at(-1)).toBe('1945-12-31');
    expect(kept).toHaveLength(7 + 3 + 11 + 74);
    expect(r.keep.length + r.forget.length).toBe(list.length);
  });
});

describe('applyRetention: rules', () => {
  const day = (d: number, h: number) => snap(`d${d}h${h}`, `2024-03-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00`);
  // Two snapshots a day on the 4th to the 8th of March 2024 (a Monday to a Friday).
  const TWICE_DAILY = [4, 5, 6, 7, 8].flatMap((d) => [day(d, 6), day(d, 18)]);

  it.each([
    ['last 3', { last: 3 }, ['d8h18', 'd8h6', 'd7h18'], ['last 1']],
    ['daily 2', { daily: 2 }, ['d8h18', 'd7h18'], ['daily 1']],
    ['hourly 4', { hourly: 4 }, ['d8h18', 'd8h6', 'd7h18', 'd7h6'], ['hourly 1']],
    ['weekly 1', { weekly: 1 }, ['d8h18'], ['weekly 1']],
    ['monthly 2 keeps the oldest too (restic 0.17)', { monthly: 2 }, ['d8h18', 'd4h6'], ['monthly 1']],
    ['daily 9 on 5 days keeps the oldest too', { daily: 9 }, ['d8h18', 'd7h18', 'd6h18', 'd5h18', 'd4h18', 'd4h6'], ['daily 1']],
    ['last 1 + daily 3 overlap', { last: 1, daily: 3 }, ['d8h18', 'd7h18', 'd6h18'], ['last 1', 'daily 1']],
    ['keepWithin 1d counts from the latest, not now', { keepWithinMs: 24 * H }, ['d8h18', 'd8h6'], ['within 1d of the latest']],
    ['keepWithin 36h', { keepWithinMs: 36 * H }, ['d8h18', 'd8h6', 'd7h18'], ['within 1d12h of the latest']],
  ] as const)('%s', (_, p, kept, firstReasons) => {
    const r = applyRetention(policy(p), TWICE_DAILY, new Date('2030-01-01T00:00:00Z'));
    expect(ids(r.keep)).toEqual(kept);
    expect(r.keep[0]?.reasons).toEqual(firstReasons);
    expect(r.keep.length + r.forget.length).toBe(TWICE_DAILY.length);
  });

  it('does not depend on the input order', () => {
    const shuffled = [...TWICE_DAILY].reverse();
    expect(ids(applyRetention(policy({ daily: 2, last: 1 }), shuffled).keep)).toEqual(ids(applyRetention(policy({ daily: 2, last: 1 }), TWICE_DAILY).keep));
  });

  it('a snapshot dated in the future does not move the keepWithin reference (restic ignores it)', () => {
    const forged = snap('forged', '2031-01-01T00:00:00');
    const r = applyRetention(policy({ keepWithinMs: 24 * H }), [...TWICE_DAILY, forged], new Date('2024-03-09T00:00:00Z'));
    expect(ids(r.keep)).toEqual(['forged', 'd8h18', 'd8h6']);
  });

  it('says why each forgotten snapshot goes', () => {
    const r = applyRetention(policy({ daily: 2, keepWithinMs: 12 * H }), TWICE_DAILY);
    expect(r.forget[0]).toEqual({
      snapshot: TWICE_DAILY[8], // d8h6: exactly 12h before the latest is not "within" (restic: strictly after)
      reasons: ["matches no rule: older than 12h before the latest; a newer snapshot is the day's daily"],
    });
    expect(r.forget.at(-1)?.reasons).toEqual(['matches no rule: older than 12h before the latest; daily 2 already kept']);
  });

  it('an empty policy keeps everything instead of forgetting everything', () => {
    const r = applyRetention(NONE, TWICE_DAILY);
    expect(r.forget).toEqual([]);
    expect(r.keep).toHaveLength(TWICE_DAILY.length);
  });

  it('no snapshots: nothing to keep or forget', () => {
    expect(applyRetention(policy({ last: 1 }), [])).toEqual({ keep: [], forget: [] });
  });
});

describe('isoWeek', () => {
  it.each([
    ['2019-12-30', 202001],
    ['2019-12-29', 201952],
    ['2021-01-03', 202053],
    ['2021-01-04', 202101],
    ['2024-03-04', 202410],
    ['2026-12-31', 202653],
  ])('%s is in week %d', (d, w) => {
    expect(isoWeek(new Date(`${d}T12:00:00Z`))).toBe(w);
  });
});
