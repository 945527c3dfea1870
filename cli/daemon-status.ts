// The readiness report (verifier/report/, the same as `georep report`) for the daemon's /status
// page, made at request time but at most once per `ttlMs`: a refresh storm, or several dashboards
// polling, cost the catalog one report per interval. Requests that arrive while one is being made
// share it; a failed one is not kept.
import type { CatalogDb } from '../catalog/db.ts';
import type { Clock } from '../core/clock.ts';
import { buildReport, type ReadinessReport } from '../verifier/report/model.ts';
import { knownSites } from './known-sites.ts';

export interface StatusReports {
  get(): Promise<ReadinessReport>;
}

export function statusReports(db: CatalogDb, clock: Clock, ttlMs: number): StatusReports {
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  return {
    get() {
      const now = clock.nowMs();
      if (cached !== undefined && now - cached.at < ttlMs) return cached.report;
      const entry = { at: now, report: (async () => buildReport(db, { sites: await knownSites(db) }))() };
      cached = entry;
      entry.report.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return entry.report;
    },
  };
}
