import { describe, expect, it } from 'vitest';
import { judgeContract, judgeSite, worst, type ContractFact, type DrillFact, type FindingCounts, type SiteFact, type Verdict } from './verdict.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2026, 2, 1, 12);
const none: FindingCounts = { missing: 0, corrupt: 0, 'wrong-size': 0, unexpected: 0, unreadable: 0 };

const drill = (more: Partial<DrillFact> = {}): DrillFact => ({
  site: 'a',
  startedAtMs: NOW - 2 * HOUR,
  totalMs: 10 * MIN,
  outcome: 'passed',
  failures: 0,
  ...more,
});

const site = (name: string, more: Partial<SiteFact> = {}): SiteFact => ({
  site: name,
  chosen: true,
  newestCommittedAgeMs: 10 * MIN,
  verifiedAgeMs: 10 * MIN,
  lastDrill: null,
  openFindings: none,
  ...more,
});

// RPO 30m, RTO 1h, 2 copies, weekly drills.
const contract = (more: Partial<ContractFact> = {}): ContractFact => ({
  rpoMs: 30 * MIN,
  rtoMs: HOUR,
  copies: 2,
  drillPeriodMs: 7 * 24 * HOUR,
  nowMs: NOW,
  placementFailures: [],
  sites: [site('a'), site('b')],
  lastDrill: drill(),
  ...more,
});

describe('worst', () => {
  it.each([
    [[], 'meets'],
    [['meets', 'meets'], 'meets'],
    [['meets', 'at risk'], 'at risk'],
    [['breached', 'at risk', 'meets'], 'breached'],
  ] as [Verdict[], Verdict][])('%j -> %s', (vs, out) => expect(worst(vs)).toBe(out));
});

describe('judgeSite', () => {
  it.each<[string, Partial<SiteFact>, Verdict, RegExp]>([
    ['fresh and verified', {}, 'meets', /10m old, within the RPO 30m/],
    ['verified beyond the RPO', { verifiedAgeMs: 45 * MIN }, 'at risk', /45m old, beyond the RPO 30m/],
    ['exactly 2 x RPO is still only at risk', { verifiedAgeMs: 60 * MIN }, 'at risk', /beyond the RPO/],
    ['beyond 2 x RPO', { verifiedAgeMs: 61 * MIN }, 'breached', /more than 2 x the RPO/],
    ['committed but never verified', { verifiedAgeMs: null }, 'breached', /nothing verified restorable here/],
    ['holds nothing', { verifiedAgeMs: null, newestCommittedAgeMs: null }, 'breached', /holds no committed snapshot/],
    ['an unchosen site promises nothing', { chosen: false, verifiedAgeMs: null, newestCommittedAgeMs: null }, 'meets', /informational/],
    ['an unchosen site with a finding', { chosen: false, openFindings: { ...none, corrupt: 1 } }, 'at risk', /open findings: 1 corrupt/],
    ['open findings', { openFindings: { ...none, missing: 2, unreadable: 1 } }, 'at risk', /2 missing, 1 unreadable/],
    ['last drill here failed', { lastDrill: drill({ outcome: 'failed', failures: 3 }) }, 'at risk', /last drill here failed .*3 failure/],
    ['last drill here over the RTO', { lastDrill: drill({ totalMs: 2 * HOUR }) }, 'at risk', /took 2h, longer than the RTO 1h/],
    ['last drill here passed', { lastDrill: drill() }, 'meets', /last drill here passed/],
  ])('%s: %s', (_, more, verdict, text) => {
    const j = judgeSite(site('a', more), contract());
    expect(j.verdict).toBe(verdict);
    expect(j.reasons[0]?.verdict).toBe(verdict);
    expect(j.reasons.map((r) => r.text).join('\n')).toMatch(text);
  });

  it('says when the newest committed snapshot is newer than the newest verified one', () => {
    const j = judgeSite(site('a', { newestCommittedAgeMs: 5 * MIN, verifiedAgeMs: 20 * MIN }), contract());
    expect(j.verdict).toBe('meets');
    expect(j.reasons.map((r) => r.text)).toContain('newest committed snapshot (5m old) is not verified yet');
  });
});

describe('judgeContract', () => {
  it.each<[string, Partial<ContractFact>, Verdict, RegExp]>([
    ['fresh everywhere, drill passed in time', {}, 'meets', /2 of 2 copies verified restorable within the RPO 30m \(a, b\)/],
    ['one copy stale: fewer copies than promised', { sites: [site('a'), site('b', { verifiedAgeMs: 45 * MIN })] }, 'at risk', /only 1 of 2 copies/],
    ['a missing copy: one site holds nothing', { sites: [site('a'), site('b', { verifiedAgeMs: null, newestCommittedAgeMs: null })] }, 'at risk', /chosen site b breached: holds no committed snapshot/],
    ['stale beyond the RPO everywhere', { sites: [site('a', { verifiedAgeMs: 40 * MIN }), site('b', { verifiedAgeMs: 50 * MIN })] }, 'breached', /no copy verified restorable within the RPO 30m: the freshest is 40m old \(a\)/],
    ['nothing verified anywhere', { sites: [site('a', { verifiedAgeMs: null }), site('b', { verifiedAgeMs: null })] }, 'breached', /no snapshot is verified restorable at any site/],
    ['last drill failed', { lastDrill: drill({ outcome: 'failed', failures: 2 }) }, 'breached', /last drill failed \(a, 2h ago, took 10m, 2 failure/],
    ['last drill errored', { lastDrill: drill({ outcome: 'error', totalMs: null }) }, 'breached', /last drill could not run/],
    ['last drill over the RTO', { lastDrill: drill({ totalMs: 90 * MIN }) }, 'breached', /took 1h30m, longer than the RTO 1h/],
    ['no RTO promised: any drill time', { rtoMs: null, lastDrill: drill({ totalMs: 9 * HOUR }) }, 'meets', /no RTO is promised/],
    ['no drill yet', { lastDrill: null }, 'at risk', /no drill recorded/],
    ['drill overdue beyond two periods', { lastDrill: drill({ startedAtMs: NOW - 15 * 24 * HOUR }) }, 'at risk', /drill overdue: .* allows 2w/],
    ['drill late within two periods', { lastDrill: drill({ startedAtMs: NOW - 13 * 24 * HOUR }) }, 'meets', /last drill passed in 10m/],
    ['a passed drill without a total', { lastDrill: drill({ totalMs: null }) }, 'at risk', /recorded no total time/],
    ['an open finding at one site', { sites: [site('a'), site('b', { openFindings: { ...none, corrupt: 1 } })] }, 'at risk', /b: open findings: 1 corrupt/],
    ['a placement that cannot be met', { placementFailures: ['only 1 region'] }, 'at risk', /placement cannot be met now: only 1 region/],
    ['one copy promised, an unchosen site holding nothing', { copies: 1, sites: [site('a'), site('b', { chosen: false, verifiedAgeMs: null })] }, 'meets', /1 of 1 copy verified/],
  ])('%s: %s', (_, more, verdict, text) => {
    const j = judgeContract(contract(more));
    expect(j.verdict).toBe(verdict);
    expect(j.reasons[0]?.verdict).toBe(verdict);
    expect(j.reasons.map((r) => r.text).join('\n')).toMatch(text);
    expect(j.sites).toHaveLength(contract(more).sites.length);
  });

  it('orders reasons worst first and keeps the rest', () => {
    const j = judgeContract(contract({ lastDrill: drill({ outcome: 'failed' }), sites: [site('a'), site('b', { verifiedAgeMs: 45 * MIN })] }));
    expect(j.reasons.map((r) => r.verdict)).toEqual(['breached', 'at risk', 'at risk']);
  });
});
