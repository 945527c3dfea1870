// The daemon's Prometheus metrics, in a registry of its own (never prom-client's global default, so
// two daemons in one process, as in tests, do not share counters). Queue depth and snapshot ages
// are read from the catalog at each scrape, so they are the same whichever daemon is scraped; the
// job counters are this daemon's own.
import { Counter, Gauge, Registry } from 'prom-client';
import type { CatalogDb } from '../../catalog/db.ts';
import { jobsByState, lastSnapshotAges } from '../../catalog/queries/daemon-metrics.ts';
import type { ClaimedJob } from '../../catalog/queries/jobs.ts';
import type { JobEnd } from './daemon.ts';

const STATES = ['pending', 'running', 'done', 'failed'];

export interface DaemonMetrics {
  registry: Registry;
  /** Counts a job this daemon ran, by kind and how it ended. */
  jobEnded(job: ClaimedJob, end: JobEnd): void;
}

export function daemonMetrics(db: CatalogDb): DaemonMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'georep_jobs',
    help: 'Jobs in the catalog by state (shared by every daemon on it)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await jobsByState(db);
      for (const state of STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: 'georep_last_snapshot_age_seconds',
    help: "Seconds since the newest snapshot of the contract's dataset committed at the site (database clock)",
    labelNames: ['contract', 'site'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const a of await lastSnapshotAges(db)) this.set({ contract: a.contract, site: a.site }, a.ageSeconds);
    },
  });
  const ended = new Counter({
    name: 'georep_jobs_ended_total',
    help: 'Jobs this daemon ran, by kind and end (done, failed, retry, fenced, released)',
    labelNames: ['kind', 'end'],
    registers: [registry],
  });
  return { registry, jobEnded: (job, end) => ended.inc({ kind: job.kind, end }) };
}
