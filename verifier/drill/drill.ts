// `georep drill`'s work: choose the sites and snapshots (choose.ts) from the catalog, then per site
// start a drill row, drill (drill-site.ts), finish the row with the figures and verdict, and
// append an audit entry. Sites are drilled one after another: a drill measures one site's restore
// time, which a second restore running beside it would distort.
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { finishDrill, lastDrilledAt, startDrill, type DrillRecord } from '../../catalog/queries/drills.ts';
import { datasetSnapshots } from '../../catalog/queries/retention.ts';
import { getSite } from '../../catalog/queries/sites.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError, UsageError } from '../../core/errors.ts';
import type { Contract } from '../../policies/contract.ts';
import type { Hex64 } from '../../repository/types.ts';
import { chooseDrillSites, chooseSnapshot, type HeldSnapshot, type SnapshotChoice } from './choose.ts';
import type { Env, PgTarget } from '../../sites/postgres/connection.ts';
import { drillPostgresSite } from './drill-postgres.ts';
import { drillSite, type DrillSiteResult, type DrillSource } from './drill-site.ts';

/** The audit action appended per drill (subject: the contract). */
export const DRILL_AUDIT_ACTION = 'drill.run';

export interface DrillPlanInput {
  db: CatalogDb;
  contract: Contract;
  /** Drill this registered site only, instead of the contract's verify.drillSites. */
  site?: string;
  snapshot: SnapshotChoice;
  /** In [0, 1): picks the snapshot for `random`. */
  random: () => number;
}

export interface DrillPlan {
  /** In order: one drill per site. */
  drills: { site: string; snapshot: Hex64 }[];
  /** Sites verify.drillSites names that hold no kept, committed snapshot: not drilled. */
  empty: string[];
}

/** Which snapshot to drill at which site; a UsageError (before anything is recorded) when there is nothing to drill. */
export async function planDrills(input: DrillPlanInput): Promise<DrillPlan> {
  const { db, contract } = input;
  if (input.site !== undefined && (await getSite(db, input.site)) === null) {
    throw new UsageError(`no registered site named '${input.site}'`, { hint: 'georep site list shows them' });
  }
  const dataset = contract.dataset.name;
  const snapshots: HeldSnapshot[] = (await datasetSnapshots(db, dataset))
    .filter((s) => s.forgottenAt === null)
    .map((s) => ({ id: s.id, committedAt: s.committedAt, sites: s.sites.filter((x) => x.state === 'committed').map((x) => x.site) }));
  const choice = chooseDrillSites({
    placement: contract.placement.sites,
    drillSites: contract.verify.drillSites,
    ...(input.site === undefined ? {} : { site: input.site }),
    snapshots,
    lastDrilled: await lastDrilledAt(db, contract.contract),
  });
  if (choice.sites.length === 0) {
    const where = input.site === undefined ? `any of ${choice.empty.join(', ')}` : `site ${input.site}`;
    throw new UsageError(`the catalog knows no snapshot of dataset ${dataset} committed at ${where} that is still kept: nothing to drill`, {
      hint: `georep snapshot --contract ${contract.contract} takes one; georep status shows what each site holds`,
    });
  }
  return {
    drills: choice.sites.map((site) => ({ site, snapshot: chooseSnapshot(snapshots, site, input.snapshot, input.random)!.id })),
    empty: choice.empty,
  };
}

export interface DrillRequest {
  db: CatalogDb;
  contract: Contract;
  contractVersion: number;
  plan: DrillPlan;
  /** Opens a registered site's repository and index, with no failover. */
  open(site: string): Promise<DrillSource>;
  sandboxParent: string;
  clock: Clock;
  keep: boolean;
  actor: string;
  runId: number | null;
  /** For a postgres dataset: the server scratch databases are made on, and pg_restore's folder. */
  postgres?: { server: PgTarget; binDir: string; env: Env };
}

export interface DrillReport {
  drill: DrillRecord;
  /** Where the restored tree was left (--keep). */
  sandbox: string | null;
}

/** Runs the planned drills one after another, each recorded (drills row, audit entry). */
export async function runDrills(request: DrillRequest): Promise<DrillReport[]> {
  const reports: DrillReport[] = [];
  for (const { site, snapshot } of request.plan.drills) reports.push(await drillOne(request, site, snapshot));
  return reports;
}

async function drillOne(request: DrillRequest, site: string, snapshot: string): Promise<DrillReport> {
  const { db, contract } = request;
  const started = await startDrill(db, {
    contract: contract.contract,
    contractVersion: request.contractVersion,
    site,
    snapshot,
    runId: request.runId,
    rtoMs: contract.rtoMs,
  });
  let report: DrillReport;
  try {
    let result: DrillSiteResult;
    if (contract.dataset.source.type === 'postgres') {
      if (request.postgres === undefined) throw new UsageError(`contract ${contract.contract} drills a database, but no server was given`);
      result = await drillPostgresSite({
        open: () => request.open(site),
        snapshot,
        clock: request.clock,
        rtoMs: contract.rtoMs,
        ...request.postgres,
        checks: contract.verify.checks ?? [],
        keep: request.keep,
      });
    } else {
      result = await drillSite({
        open: () => request.open(site),
        snapshot,
        sandboxParent: request.sandboxParent,
        label: `${contract.contract}-${site}`,
        clock: request.clock,
        rtoMs: contract.rtoMs,
        keep: request.keep,
      });
    }
    const { sandbox, ...figures } = result;
    report = { drill: await finishDrill(db, started.id, figures), sandbox };
  } catch (err) {
    // Not a finding about the site (a wrong password, the sandbox could not be made): the drill
    // did not run. Its row says so, and the error goes up to the command.
    const failures = [{ kind: 'site' as const, message: `the drill could not run: ${describeError(err)}` }];
    await finishDrill(db, started.id, { firstByteMs: null, totalMs: null, bytes: null, files: null, failures, outcome: 'error' }).catch(
      () => undefined,
    );
    throw err;
  }
  const d = report.drill;
  await appendAudit(db, {
    actor: request.actor,
    action: DRILL_AUDIT_ACTION,
    subject: contract.contract,
    details: { drill: d.id, site, snapshot, outcome: d.outcome, totalMs: d.totalMs, rtoMs: d.rtoMs, failures: d.failures.length },
  });
  return report;
}
