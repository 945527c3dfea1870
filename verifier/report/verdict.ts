// The readiness verdicts: pure functions of measured facts (no catalog, no clock: `nowMs` is the
// database clock, passed in). Principle: promise only what is measured. Freshness counts only
// snapshots VERIFIED restorable (a passed drill, or a deep verify after the commit that read every
// pack the snapshot needs, with no open finding on them); a snapshot merely committed counts for
// nothing. Every verdict carries its reasons, each with the verdict it alone would give, so the
// verdict is the worst of its reasons and a reader sees exactly what made it so.
//
// Rules (docs/ARCHITECTURE.md "Report" explains the choices):
// - Site. breached: nothing verified restorable here, or its newest is older than 2 x RPO.
//   at risk: it is older than the RPO (up to 2 x RPO); an open finding here; the last drill here
//   failed or took longer than the RTO. A site the placement did not choose promises nothing:
//   its freshness is shown, never held against it.
// - Contract. breached: no copy verified restorable within the RPO at any site; the last drill
//   (at any site) failed or took longer than the RTO. at risk: fewer copies verified within the
//   RPO than `copies` (but at least one); no drill yet, or the last is older than two drill
//   periods (the longest gap of the drill schedule); an open finding at a site; a chosen site
//   not meeting; a placement that cannot be met now. meets: none of that.
import { dur } from './duration.ts';

export const VERDICTS = ['meets', 'at risk', 'breached'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const FINDING_KINDS = ['missing', 'corrupt', 'wrong-size', 'unexpected', 'unreadable'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export type FindingCounts = Record<FindingKind, number>;

export interface Reason {
  /** What this reason alone makes of the verdict ('meets': a fact in its favour). */
  verdict: Verdict;
  text: string;
}

export interface Judgement {
  verdict: Verdict;
  /** Worst first; never empty. */
  reasons: Reason[];
}

export type DrillOutcome = 'passed' | 'failed' | 'error';

export interface DrillFact {
  site: string;
  startedAtMs: number;
  /** Null when the drill did not get as far as a total. */
  totalMs: number | null;
  outcome: DrillOutcome;
  failures: number;
}

export interface SiteFact {
  site: string;
  /** Chosen by the contract's placement now: it is promised a copy. */
  chosen: boolean;
  /** Age (database clock minus first commit) of the newest snapshot committed here; null: none. */
  newestCommittedAgeMs: number | null;
  /** Age of the newest snapshot verified restorable here; null: none. */
  verifiedAgeMs: number | null;
  /** The last finished drill of this contract here. */
  lastDrill: DrillFact | null;
  openFindings: FindingCounts;
}

export interface ContractFact {
  rpoMs: number;
  /** Null: no restore-time promise. */
  rtoMs: number | null;
  copies: number;
  /** The longest gap between two runs of the drill schedule. */
  drillPeriodMs: number;
  nowMs: number;
  /** Why the placement cannot be met now; empty when it can. */
  placementFailures: string[];
  sites: SiteFact[];
  /** The last finished drill of this contract at any site. */
  lastDrill: DrillFact | null;
}

/** Drills may be late by one period (a missed or slow run) before the contract is at risk. */
export const DRILL_PERIODS_ALLOWED = 2;
/** A site is breached, not only at risk, once its newest verified snapshot is this many RPOs old. */
export const RPO_MULTIPLE_BREACHED = 2;

const rank = (v: Verdict): number => VERDICTS.indexOf(v);

export function worst(verdicts: Iterable<Verdict>): Verdict {
  let out: Verdict = 'meets';
  for (const v of verdicts) if (rank(v) > rank(out)) out = v;
  return out;
}

function judgement(reasons: Reason[]): Judgement {
  // Stable: reasons of the same weight keep the order they were found in.
  const sorted = reasons.map((r, i) => ({ r, i })).sort((a, b) => rank(b.r.verdict) - rank(a.r.verdict) || a.i - b.i);
  return { verdict: worst(reasons.map((r) => r.verdict)), reasons: sorted.map((x) => x.r) };
}


export function findingsText(f: FindingCounts): string {
  return FINDING_KINDS.filter((k) => f[k] > 0)
    .map((k) => `${f[k]} ${k}`)
    .join(', ');
}

const openFindings = (f: FindingCounts): number => FINDING_KINDS.reduce((n, k) => n + f[k], 0);

function drillText(d: DrillFact, nowMs: number): string {
  const took = d.totalMs === null ? '' : `, took ${dur(d.totalMs)}`;
  return `${d.site}, ${dur(nowMs - d.startedAtMs)} ago${took}`;
}

/** The verdict for one site of a contract. */
export function judgeSite(s: SiteFact, c: Pick<ContractFact, 'rpoMs' | 'rtoMs' | 'nowMs'>): Judgement {
  const reasons: Reason[] = [];
  const rpo = dur(c.rpoMs);
  // An unchosen site promises nothing: its freshness is informational.
  const fresh = (v: Verdict): Verdict => (s.chosen ? v : 'meets');
  const unchosen = s.chosen ? '' : ' (not chosen by the placement: informational)';
  if (s.verifiedAgeMs === null) {
    const text =
      s.newestCommittedAgeMs === null
        ? `holds no committed snapshot${unchosen}`
        : `nothing verified restorable here: no drill passed and no deep verify read every pack of a committed snapshot${unchosen}`;
    reasons.push({ verdict: fresh('breached'), text });
  } else {
    const age = dur(s.verifiedAgeMs);
    if (s.verifiedAgeMs <= c.rpoMs) {
      reasons.push({ verdict: 'meets', text: `newest verified restorable snapshot is ${age} old, within the RPO ${rpo}` });
    } else if (s.verifiedAgeMs <= RPO_MULTIPLE_BREACHED * c.rpoMs) {
      reasons.push({ verdict: fresh('at risk'), text: `newest verified restorable snapshot is ${age} old, beyond the RPO ${rpo}${unchosen}` });
    } else {
      reasons.push({
        verdict: fresh('breached'),
        text: `newest verified restorable snapshot is ${age} old, more than ${RPO_MULTIPLE_BREACHED} x the RPO ${rpo}${unchosen}`,
      });
    }
  }
  if (s.newestCommittedAgeMs !== null && (s.verifiedAgeMs === null || s.newestCommittedAgeMs < s.verifiedAgeMs)) {
    reasons.push({ verdict: 'meets', text: `newest committed snapshot (${dur(s.newestCommittedAgeMs)} old) is not verified yet` });
  }
  if (openFindings(s.openFindings) > 0) {
    reasons.push({ verdict: 'at risk', text: `open findings: ${findingsText(s.openFindings)}` });
  }
  const d = s.lastDrill;
  if (d !== null) {
    if (d.outcome !== 'passed') {
      reasons.push({ verdict: 'at risk', text: `last drill here ${d.outcome === 'error' ? 'could not run' : 'failed'} (${drillText(d, c.nowMs)}, ${d.failures} failure(s))` });
    } else if (c.rtoMs !== null && d.totalMs !== null && d.totalMs > c.rtoMs) {
      reasons.push({ verdict: 'at risk', text: `last drill here took ${dur(d.totalMs)}, longer than the RTO ${dur(c.rtoMs)}` });
    } else {
      reasons.push({ verdict: 'meets', text: `last drill here passed (${drillText(d, c.nowMs)})` });
    }
  }
  return judgement(reasons);
}

export interface ContractJudgement extends Judgement {
  /** One per fact in ContractFact.sites, same order. */
  sites: Judgement[];
}

/** The verdict for a contract, and for each of its sites. */
export function judgeContract(c: ContractFact): ContractJudgement {
  const sites = c.sites.map((s) => judgeSite(s, c));
  const reasons: Reason[] = [];
  const rpo = dur(c.rpoMs);

  if (c.placementFailures.length > 0) {
    reasons.push({ verdict: 'at risk', text: `the placement cannot be met now: ${c.placementFailures.join('; ')}` });
  }

  const fresh = c.sites.filter((s) => s.verifiedAgeMs !== null && s.verifiedAgeMs <= c.rpoMs).map((s) => s.site);
  const copies = `${c.copies} ${c.copies === 1 ? 'copy' : 'copies'}`;
  if (fresh.length >= c.copies) {
    reasons.push({ verdict: 'meets', text: `${fresh.length} of ${copies} verified restorable within the RPO ${rpo} (${fresh.join(', ')})` });
  } else if (fresh.length > 0) {
    reasons.push({ verdict: 'at risk', text: `only ${fresh.length} of ${copies} verified restorable within the RPO ${rpo} (${fresh.join(', ')})` });
  } else {
    const verified = c.sites.filter((s) => s.verifiedAgeMs !== null).sort((a, b) => (a.verifiedAgeMs ?? 0) - (b.verifiedAgeMs ?? 0));
    const best = verified[0];
    reasons.push({
      verdict: 'breached',
      text:
        best === undefined || best.verifiedAgeMs === null
          ? `no snapshot is verified restorable at any site: the RPO ${rpo} is not met`
          : `no copy verified restorable within the RPO ${rpo}: the freshest is ${dur(best.verifiedAgeMs)} old (${best.site})`,
    });
  }

  reasons.push(...drillReasons(c));

  for (const [i, s] of c.sites.entries()) {
    const j = sites[i] as Judgement;
    if (openFindings(s.openFindings) > 0) {
      reasons.push({ verdict: 'at risk', text: `${s.site}: open findings: ${findingsText(s.openFindings)}` });
    }
    // A chosen site not meeting is at risk for the contract whatever it is for the site: the
    // copies rule above already says when the promise as a whole is broken.
    if (s.chosen && j.verdict !== 'meets') {
      const why = j.reasons.filter((r) => r.verdict !== 'meets' && !r.text.startsWith('open findings')).map((r) => r.text);
      if (why.length > 0) reasons.push({ verdict: 'at risk', text: `chosen site ${s.site} ${j.verdict}: ${why.join('; ')}` });
    }
  }
  return { ...judgement(reasons), sites };
}

function drillReasons(c: ContractFact): Reason[] {
  const d = c.lastDrill;
  if (d === null) return [{ verdict: 'at risk', text: 'no drill recorded: the restore time has never been measured' }];
  const out: Reason[] = [];
  const when = drillText(d, c.nowMs);
  if (d.outcome !== 'passed') {
    out.push({ verdict: 'breached', text: `last drill ${d.outcome === 'error' ? 'could not run' : 'failed'} (${when}, ${d.failures} failure(s))` });
  } else if (c.rtoMs !== null && d.totalMs !== null && d.totalMs > c.rtoMs) {
    out.push({ verdict: 'breached', text: `last drill took ${dur(d.totalMs)}, longer than the RTO ${dur(c.rtoMs)} (${d.site})` });
  } else if (c.rtoMs === null) {
    out.push({ verdict: 'meets', text: `last drill passed (${when}); no RTO is promised` });
  } else if (d.totalMs === null) {
    out.push({ verdict: 'at risk', text: `last drill passed but recorded no total time (${when}): the RTO ${dur(c.rtoMs)} is not measured` });
  } else {
    out.push({ verdict: 'meets', text: `last drill passed in ${dur(d.totalMs)}, within the RTO ${dur(c.rtoMs)} (${d.site}, ${dur(c.nowMs - d.startedAtMs)} ago)` });
  }
  const allowed = DRILL_PERIODS_ALLOWED * c.drillPeriodMs;
  if (c.nowMs - d.startedAtMs > allowed) {
    out.push({
      verdict: 'at risk',
      text: `drill overdue: the last one was ${dur(c.nowMs - d.startedAtMs)} ago, the schedule allows ${dur(allowed)} (${DRILL_PERIODS_ALLOWED} drill periods)`,
    });
  }
  return out;
}
