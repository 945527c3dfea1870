// The readiness report as data: per contract and site, what the catalog proves (the newest
// snapshot verified restorable and its age against the RPO, the last drill against the RTO, open
// findings, the placement in force) and the verdicts of verdict.ts with their reasons; plus the
// history the charts draw. Every renderer draws from this and nothing else; render-json prints it
// as it is, so its field names are a stable interface (times ISO 8601 UTC, durations in ms).
//
// "now" is the database clock (the one commit and verify times were stamped with), read once, so
// every age in one report is measured against the same instant.
import type { CatalogDb } from '../../catalog/db.ts';
import { databaseNow } from '../../catalog/queries/clock.ts';
import { latestContractVersion, listLatestContracts, type ContractVersion } from '../../catalog/queries/contracts.ts';
import { drillHistory, lastDrillsBySite, type FinishedDrill } from '../../catalog/queries/drills.ts';
import { commitHistory, openFindingCounts, openFindingList, siteReadiness } from '../../catalog/queries/readiness.ts';
import { UsageError } from '../../core/errors.ts';
import type { Tier } from '../../policies/contract.ts';
import { longestGapMs } from '../../policies/cron.ts';
import type { KnownSite } from '../../policies/known-site.ts';
import { loadContract } from '../../policies/load.ts';
import { planPlacement } from '../../policies/placement.ts';
import { formatProblem } from '../../policies/problem.ts';
import { rpoSawtooth, type AgePoint } from './history.ts';
import {
  FINDING_KINDS,
  judgeContract,
  worst,
  type DrillFact,
  type FindingCounts,
  type FindingKind,
  type Reason,
  type SiteFact,
  type Verdict,
} from './verdict.ts';

export const REPORT_FORMAT = 1;

export interface ReadinessReport {
  /** Version of this shape; raised when a field changes meaning or goes. */
  format: number;
  /** The database clock when the report was made. */
  generatedAt: string;
  /** The worst verdict of all contracts; 'meets' when there is none. */
  verdict: Verdict;
  contracts: ContractReport[];
  /** Every live site, for the map. */
  sites: SiteLocation[];
}

export interface SiteLocation {
  name: string;
  region: string | null;
  jurisdiction: string | null;
  lat: number | null;
  lon: number | null;
}

export interface ContractReport {
  contract: string;
  version: number;
  appliedAt: string;
  /** Null only when the stored document no longer loads (then `problems` says why). */
  tier: Tier | null;
  dataset: string | null;
  rpoMs: number | null;
  rtoMs: number | null;
  copies: number | null;
  drillSchedule: string | null;
  /** The longest gap of the drill schedule; a drill older than 2 of these is overdue. */
  drillPeriodMs: number | null;
  problems: string[];
  verdict: Verdict;
  reasons: Reason[];
  placement: PlacementReport;
  sites: SiteReport[];
  /** The last finished drill at any site. */
  lastDrill: DrillReport | null;
  history: { rpo: SiteAgeHistory[]; drills: DrillReport[]; since: string };
}

export interface PlacementReport {
  /** False when no combination of registered sites meets the placement now. */
  ok: boolean;
  /** The candidate sites the contract lists (placement.sites), in its order. */
  listed: string[];
  /** The sites the plan gives a copy now, in preference order. */
  chosen: string[];
  failures: string[];
  /** The dataset's newest snapshot committed anywhere. */
  newestSnapshot: { snapshot: string; committedAt: string } | null;
  /** The sites holding it committed. */
  holdingNewest: string[];
  /** Chosen sites that do not hold it committed. */
  chosenLacking: string[];
}

export interface SnapshotRef {
  snapshot: string;
  /** First commit anywhere: the age of the data counts from it. */
  committedAt: string;
  /** This site's commit. */
  siteCommittedAt: string;
  ageMs: number;
}

export interface VerifiedRef extends SnapshotRef {
  /** 'drill' when a passed drill proves it, else 'deep verify'. */
  verifiedBy: 'drill' | 'deep verify';
  verifiedAt: string;
}

export interface SiteReport {
  site: string;
  chosen: boolean;
  newestCommitted: SnapshotRef | null;
  newestVerified: VerifiedRef | null;
  lastDrill: DrillReport | null;
  openFindings: FindingCounts;
  /** The most recently seen open findings (at most 20). */
  findings: FindingReport[];
  verdict: Verdict;
  reasons: Reason[];
}

export interface FindingReport {
  objectKey: string;
  kind: FindingKind;
  level: string;
  detail: string;
  foundAt: string;
  lastSeenAt: string;
}

export interface DrillReport {
  site: string;
  snapshot: string;
  startedAt: string;
  finishedAt: string;
  outcome: 'passed' | 'failed' | 'error';
  totalMs: number | null;
  firstByteMs: number | null;
  snapshotAgeMs: number | null;
  bytes: number | null;
  files: number | null;
  /** The contract's RTO when the drill ran. */
  rtoMs: number | null;
  failures: string[];
}

export interface SiteAgeHistory {
  site: string;
  /** Age of the newest snapshot committed at the site, over time (a sawtooth). */
  points: AgePoint[];
}

export interface BuildReportOptions {
  /** One contract by name (UsageError when there is none); every contract when absent. */
  contract?: string;
  /** The database clock; read from the catalog when absent. */
  now?: Date;
  /** The registered sites as placement sees them (cli/known-sites.ts builds them). */
  sites: readonly KnownSite[];
}

const DAY = 86_400_000;
const iso = (d: Date): string => d.toISOString();

export async function buildReport(db: CatalogDb, options: BuildReportOptions): Promise<ReadinessReport> {
  const now = options.now ?? (await databaseNow(db));
  let versions: ContractVersion[];
  if (options.contract !== undefined) {
    const v = await latestContractVersion(db, options.contract);
    if (v === null) {
      throw new UsageError(`no contract named '${options.contract}'`, { hint: 'georep policy list shows them' });
    }
    versions = [v];
  } else {
    versions = await listLatestContracts(db);
  }
  const contracts: ContractReport[] = [];
  for (const v of versions) contracts.push(await contractReport(db, v, now, options.sites));
  return {
    format: REPORT_FORMAT,
    generatedAt: iso(now),
    verdict: worst(contracts.map((c) => c.verdict)),
    contracts,
    sites: options.sites.map((s) => ({
      name: s.name,
      region: s.region ?? null,
      jurisdiction: s.jurisdiction ?? null,
      lat: s.lat ?? null,
      lon: s.lon ?? null,
    })),
  };
}

async function contractReport(db: CatalogDb, v: ContractVersion, now: Date, known: readonly KnownSite[]): Promise<ContractReport> {
  const loaded = loadContract(v.document, `contract ${v.contract} version ${v.version}`);
  if ('problems' in loaded) return unloadable(v, now, loaded.problems.map(formatProblem));
  const c = loaded.contract;
  const nowMs = now.getTime();
  const drillPeriodMs = longestGapMs(c.verify.drill);
  const plan = planPlacement(c, known);
  const chosen = plan.chosen.map((d) => d.site);
  const dataset = c.dataset.name;
  const since = new Date(nowMs - Math.min(90 * DAY, Math.max(7 * DAY, 20 * c.rpoMs, 3 * drillPeriodMs)));

  const [readiness, lastDrills, counts, findings, commits, drills] = await Promise.all([
    siteReadiness(db, dataset),
    lastDrillsBySite(db, c.contract),
    openFindingCounts(db, dataset),
    openFindingList(db, dataset),
    commitHistory(db, dataset, since),
    drillHistory(db, c.contract, since),
  ]);

  const drillBySite = new Map(lastDrills.map((d) => [d.site, d]));
  const countsBySite = new Map<string, FindingCounts>();
  for (const f of counts) {
    const row = countsBySite.get(f.site) ?? zeroCounts();
    row[f.kind] += f.count;
    countsBySite.set(f.site, row);
  }
  // The sites worth a row: chosen, holding a copy, drilled for this contract, or with findings.
  const readinessBySite = new Map(readiness.map((r) => [r.site, r]));
  const names = [
    ...chosen,
    ...[...new Set([...readiness.filter((r) => r.newestCommitted !== null).map((r) => r.site), ...drillBySite.keys(), ...countsBySite.keys()])]
      .filter((n) => !chosen.includes(n) && readinessBySite.has(n))
      .sort(),
  ];

  const sites: SiteReport[] = [];
  const facts: SiteFact[] = [];
  for (const name of names) {
    const r = readinessBySite.get(name);
    const n = r?.newestCommitted ?? null;
    const vr = r?.newestVerified ?? null;
    const d = drillBySite.get(name);
    const openFindings = countsBySite.get(name) ?? zeroCounts();
    const drilledNewer = vr !== null && vr.drilledAt !== null && (vr.deepVerifiedAt === null || vr.drilledAt >= vr.deepVerifiedAt);
    sites.push({
      site: name,
      chosen: chosen.includes(name),
      newestCommitted: n === null ? null : { snapshot: n.snapshot, committedAt: iso(n.dataAt), siteCommittedAt: iso(n.siteAt), ageMs: nowMs - n.dataAt.getTime() },
      newestVerified:
        vr === null
          ? null
          : {
              snapshot: vr.snapshot,
              committedAt: iso(vr.dataAt),
              siteCommittedAt: iso(vr.siteAt),
              ageMs: nowMs - vr.dataAt.getTime(),
              verifiedBy: drilledNewer ? 'drill' : 'deep verify',
              verifiedAt: iso((drilledNewer ? vr.drilledAt : vr.deepVerifiedAt) as Date),
            },
      lastDrill: d === undefined ? null : drillReport(d),
      openFindings,
      findings: findings
        .filter((f) => f.site === name)
        .map((f) => ({ objectKey: f.objectKey, kind: f.kind, level: f.level, detail: f.detail, foundAt: iso(f.foundAt), lastSeenAt: iso(f.lastSeenAt) })),
      verdict: 'meets',
      reasons: [],
    });
    facts.push({
      site: name,
      chosen: chosen.includes(name),
      newestCommittedAgeMs: n === null ? null : nowMs - n.dataAt.getTime(),
      verifiedAgeMs: vr === null ? null : nowMs - vr.dataAt.getTime(),
      lastDrill: d === undefined ? null : drillFact(d),
      openFindings,
    });
  }

  const lastDrill = [...lastDrills].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id)[0];
  const judged = judgeContract({
    rpoMs: c.rpoMs,
    rtoMs: c.rtoMs,
    copies: c.copies,
    drillPeriodMs,
    nowMs,
    placementFailures: plan.failures.map((f) => `${f.path.join('.')}: ${f.message}`),
    sites: facts,
    lastDrill: lastDrill === undefined ? null : drillFact(lastDrill),
  });
  sites.forEach((s, i) => {
    const j = judged.sites[i];
    if (j !== undefined) Object.assign(s, { verdict: j.verdict, reasons: j.reasons });
  });

  return {
    contract: c.contract,
    version: v.version,
    appliedAt: iso(v.appliedAt),
    tier: c.tier,
    dataset,
    rpoMs: c.rpoMs,
    rtoMs: c.rtoMs,
    copies: c.copies,
    drillSchedule: c.verify.drill,
    drillPeriodMs,
    problems: [],
    verdict: judged.verdict,
    reasons: judged.reasons,
    placement: placementReport(plan.ok, [...new Set(c.placement.sites)], chosen, plan.failures.map((f) => `${f.path.join('.')}: ${f.message}`), readiness),
    sites,
    lastDrill: lastDrill === undefined ? null : drillReport(lastDrill),
    history: {
      since: iso(since),
      rpo: rpoSawtooth(commits, since, now),
      drills: drills.map(drillReport),
    },
  };
}

function placementReport(ok: boolean, listed: string[], chosen: string[], failures: string[], readiness: Awaited<ReturnType<typeof siteReadiness>>): PlacementReport {
  const held = readiness.filter((r) => r.newestCommitted !== null);
  const newest = held.map((r) => r.newestCommitted).sort((a, b) => (b?.dataAt.getTime() ?? 0) - (a?.dataAt.getTime() ?? 0))[0] ?? null;
  const holding = newest === null ? [] : held.filter((r) => r.newestCommitted?.snapshot === newest.snapshot).map((r) => r.site);
  return {
    ok,
    listed,
    chosen,
    failures,
    newestSnapshot: newest === null ? null : { snapshot: newest.snapshot, committedAt: iso(newest.dataAt) },
    holdingNewest: holding,
    chosenLacking: chosen.filter((s) => !holding.includes(s)),
  };
}

function unloadable(v: ContractVersion, now: Date, problems: string[]): ContractReport {
  return {
    contract: v.contract,
    version: v.version,
    appliedAt: iso(v.appliedAt),
    tier: null,
    dataset: null,
    rpoMs: null,
    rtoMs: null,
    copies: null,
    drillSchedule: null,
    drillPeriodMs: null,
    problems,
    verdict: 'breached',
    reasons: [{ verdict: 'breached', text: `version ${v.version} no longer loads, so nothing can be measured against it: ${problems.join('; ')}` }],
    placement: { ok: false, listed: [], chosen: [], failures: [], newestSnapshot: null, holdingNewest: [], chosenLacking: [] },
    sites: [],
    lastDrill: null,
    history: { since: iso(now), rpo: [], drills: [] },
  };
}

const zeroCounts = (): FindingCounts => Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as FindingCounts;

const drillFact = (d: FinishedDrill): DrillFact => ({
  site: d.site,
  startedAtMs: d.startedAt.getTime(),
  totalMs: d.totalMs,
  outcome: d.outcome,
  failures: d.failures.length,
});

function drillReport(d: FinishedDrill): DrillReport {
  return {
    site: d.site,
    snapshot: d.snapshot,
    startedAt: iso(d.startedAt),
    finishedAt: iso(d.finishedAt),
    outcome: d.outcome,
    totalMs: d.totalMs,
    firstByteMs: d.firstByteMs,
    snapshotAgeMs: d.snapshotAgeMs,
    bytes: d.bytes,
    files: d.files,
    rtoMs: d.rtoMs,
    failures: d.failures.map(describeFailure),
  };
}

/** A drill's failure as one line, whatever shape the drill recorded it in; at most 500 characters. */
export function describeFailure(f: unknown): string {
  let text: string;
  if (typeof f === 'string') text = f;
  else if (f !== null && typeof f === 'object') {
    const o = f as Record<string, unknown>;
    const msg = typeof o.message === 'string' ? o.message : typeof o.error === 'string' ? o.error : undefined;
    const where = typeof o.path === 'string' ? o.path : typeof o.object === 'string' ? o.object : undefined;
    text = msg !== undefined ? (where !== undefined ? `${where}: ${msg}` : msg) : JSON.stringify(f);
  } else text = String(f);
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

