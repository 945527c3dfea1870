// `georep prune`: two-phase removal of unreferenced packs at every given site (docs/ARCHITECTURE.md
// "Prune"). Each site is pruned on its own (prune-site.ts); a site that fails is reported and the
// others go on. With apply, the run is recorded in the catalog (kind 'prune') and every mark,
// unmark, delete and index rewrite is in the audit log; without it nothing is written anywhere.
import { dbNow } from '../../catalog/clock.ts';
import type { CatalogDb } from '../../catalog/db.ts';
import { startHeartbeat } from '../../catalog/run-heartbeat.ts';
import { thisProcess } from '../../catalog/run-owner.ts';
import type { Clock } from '../../core/clock.ts';
import { finishRun, startRun, type RunOutcome } from '../../catalog/queries/runs.ts';
import { describeError, GeorepError, UsageError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { DeleteBudget, type BudgetLimits } from './budget.ts';
import { abandonStaleRuns, localJudge, type AbandonedRun, type RunJudge } from './live-runs.ts';
import { pruneSite, type SitePruneReport } from './prune-site.ts';

/** Default grace: longer than the longest snapshot or ship run is expected to take. */
export const DEFAULT_GRACE_MS = 24 * 3600_000;
/** Shorter graces are refused: a backup running meanwhile must have time to finish. */
export const MIN_GRACE_MS = 3600_000;

export interface PruneSiteInput {
  /** The registered name. */
  name: string;
  /** The site's repository, opened; undefined with `error` when it could not be opened. */
  repo?: Repository;
  error?: unknown;
}

export interface PruneOptions {
  db: CatalogDb;
  sites: readonly PruneSiteInput[];
  apply: boolean;
  graceMs?: number;
  budget?: BudgetLimits;
  /** Packs in the local staging of the repository, waiting for a lagging site. */
  staged?: ReadonlySet<Hex64>;
  actor: string;
  logger: Logger;
  /**
   * The database clock the grace is measured by; default `select now()`. Tests move it forward
   * with `select now() + interval '...'`, so the grace passes without waiting and without
   * touching the recorded times of marks and runs.
   */
  dbNow?: (db: CatalogDb) => Promise<Date>;
  /** Who judges whether a run's process is alive (catalog/run-liveness.ts); default this process. */
  judge?: RunJudge;
  /** Paces the heartbeat of prune's own run (catalog/run-heartbeat.ts). */
  clock: Clock;
}

export interface SiteFailure {
  site: string;
  error: { code: string; message: string; hint?: string };
}

export interface PruneReport {
  apply: boolean;
  runId: number | null;
  /** The database clock's now at the start. */
  now: Date;
  graceMs: number;
  /** Unfinished snapshot/ship runs taken for abandoned: no longer waited for (ended when applying). */
  abandonedRuns: AbandonedRun[];
  sites: SitePruneReport[];
  failed: SiteFailure[];
  /** Some due packs were left for a later run. */
  budgetExhausted: boolean;
  deleted: { packs: number; bytes: number };
}

export async function prune(options: PruneOptions): Promise<PruneReport> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < MIN_GRACE_MS) {
    throw new UsageError(`grace period of ${graceMs / 1000} s is shorter than the minimum of ${MIN_GRACE_MS / 3600_000} h`, {
      hint: 'the grace must be longer than the longest snapshot or ship run (default 24h)',
    });
  }
  const { db, apply } = options;
  const clockOf = options.dbNow ?? dbNow;
  const now = await clockOf(db);
  // Prune's own run has an owner and a heartbeat like any, so status tells a long prune from a dead one.
  const owner = thisProcess();
  const run = apply ? await startRun(db, { kind: 'prune', details: { graceMs, budget: options.budget ?? {} }, owner }) : null;
  const heartbeat = run === null ? null : startHeartbeat(db, { id: run.id, token: owner.token }, options.clock, options.logger);
  const budget = new DeleteBudget(options.budget ?? {});
  const judge = options.judge ?? localJudge();
  const report: PruneReport = {
    apply,
    runId: run?.id ?? null,
    now,
    graceMs,
    abandonedRuns: [],
    sites: [],
    failed: [],
    budgetExhausted: false,
    deleted: { packs: 0, bytes: 0 },
  };
  try {
    report.abandonedRuns = await abandonStaleRuns(db, { now, judge, apply, runId: report.runId, actor: options.actor });
    for (const input of options.sites) {
      try {
        if (input.repo === undefined) throw input.error ?? new Error('the site could not be opened');
        report.sites.push(
          await pruneSite({
            db,
            site: input.name,
            repo: input.repo,
            apply,
            graceMs,
            budget,
            staged: options.staged ?? new Set(),
            runId: report.runId,
            actor: options.actor,
            logger: options.logger,
            dbNow: () => clockOf(db),
            judge,
          }),
        );
      } catch (err) {
        options.logger.warn({ site: input.name, problem: describeError(err) }, 'prune: site failed');
        report.failed.push({ site: input.name, error: errorOf(err) });
      }
    }
  } finally {
    report.budgetExhausted = budget.exhausted;
    for (const s of report.sites) {
      for (const p of s.packs) {
        if (p.action === 'delete' && apply) {
          report.deleted.packs++;
          report.deleted.bytes += p.size;
        }
      }
    }
    await heartbeat?.stop();
    if (run !== null && heartbeat?.lost !== true) await finishRun(db, run.id, outcomeOf(report), summaryOf(report));
  }
  return report;
}

function outcomeOf(report: PruneReport): RunOutcome {
  const refused = report.sites.filter((s) => s.problems.length > 0).length;
  if (report.failed.length > 0 && report.sites.length === 0) return 'failed';
  return report.failed.length > 0 || refused > 0 ? 'partial' : 'succeeded';
}

function summaryOf(report: PruneReport): Record<string, unknown> {
  return {
    sites: report.sites.map((s) => s.site),
    abandonedRuns: report.abandonedRuns.filter((a) => a.ended).map((a) => a.run.id),
    failed: report.failed.map((f) => f.site),
    deleted: report.deleted,
    budgetExhausted: report.budgetExhausted,
  };
}

function errorOf(err: unknown): SiteFailure['error'] {
  if (err instanceof GeorepError) {
    return { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
  }
  return { code: 'UNEXPECTED', message: describeError(err) };
}
