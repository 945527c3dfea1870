// The daemon's Prometheus metrics, in a registry of its own (never prom-client's global default, so
// two daemons in one process, as in tests, do not share counters). Everything but the job counters
// is read from the catalog at each scrape, so every daemon on one catalog shows the same figures;
// the job counters are this daemon's own. One scrape runs each catalog query once (gauges that
// share a query share its answer), see scrape().
import { Counter, Gauge, Registry } from 'prom-client';
import type { CatalogDb } from '../../catalog/db.ts';
import {
  jobQueue,
  jobsByState,
  lastDrills,
  lastShips,
  lastSnapshotAges,
  openFindingsBySite,
  pendingAtSites,
} from '../../catalog/queries/daemon-metrics.ts';
import type { FindingKind } from '../../catalog/queries/findings.ts';
import type { ClaimedJob } from '../../catalog/queries/jobs.ts';
import type { JobEnd } from './daemon.ts';

const STATES = ['pending', 'running', 'done', 'failed'];
const QUEUE_STATES = ['due', 'waiting', 'running'] as const;
const FINDING_KINDS: readonly FindingKind[] = ['missing', 'corrupt', 'wrong-size', 'unexpected', 'unreadable'];

export interface DaemonMetrics {
  registry: Registry;
  /** The Prometheus text of one scrape, each catalog query run once for it. */
  scrape(): Promise<string>;
  /** Counts a job this daemon ran, by kind and how it ended. */
  jobEnded(job: ClaimedJob, end: JobEnd): void;
}

export interface DaemonMetricsOptions {
  /** Moves the database clock for the queue's due/waiting split: tests only, as the daemon's. */
  skewMs?: () => number;
}

export function daemonMetrics(db: CatalogDb, options: DaemonMetricsOptions = {}): DaemonMetrics {
  const registry = new Registry();
  // Answers memoised for the scrape under way: a gauge's collect() asks, the first ask queries.
  let memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, query: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = query();
      memo.set(key, p);
    }
    return p;
  };
  const ages = () => once('ages', () => lastSnapshotAges(db));
  const pending = () => once('pending', () => pendingAtSites(db));
  const ships = () => once('ships', () => lastShips(db));
  const drills = () => once('drills', () => lastDrills(db));

  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, value: number) => void) => Promise<void>,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset(); // a contract or site that went away must not linger with its last value
        await fill((labels, value) => this.set(labels, value));
      },
    });
  };

  gauge('georep_jobs', 'Jobs in the catalog by state, all time (shared by every daemon on it)', ['state'], async (set) => {
    const counts = await jobsByState(db);
    for (const state of STATES) set({ state }, counts.get(state) ?? 0);
  });
  gauge(
    'georep_job_queue',
    'Unfinished jobs in the catalog by kind and state: due (pending, its tick has come), waiting (pending, tick ahead), running (leased by a daemon)',
    ['kind', 'state'],
    async (set) => {
      const rows = await jobQueue(db, options.skewMs?.() ?? 0);
      for (const kind of new Set(['snapshot', 'verify', 'drill', ...rows.map((r) => r.kind)])) {
        for (const state of QUEUE_STATES) set({ kind, state }, rows.find((r) => r.kind === kind && r.state === state)?.count ?? 0);
      }
    },
  );
  gauge(
    'georep_last_snapshot_age_seconds',
    "Seconds since the newest snapshot of the contract's dataset (not forgotten) committed at the site, by the database clock",
    ['contract', 'site'],
    async (set) => {
      for (const a of await ages()) set({ contract: a.contract, site: a.site }, a.ageSeconds);
    },
  );
  // Pending figures: 0 for every pair that holds a snapshot of the contract, so a graph has no gaps.
  const pendingGauge = (name: string, help: string, pick: (p: { snapshots: number; packs: number; bytes: number }) => number): void =>
    gauge(name, help, ['contract', 'site'], async (set) => {
      const [held, behind] = await Promise.all([ages(), pending()]);
      for (const a of held) set({ contract: a.contract, site: a.site }, 0);
      for (const p of behind) set({ contract: p.contract, site: p.site }, pick(p));
    });
  pendingGauge(
    'georep_pending_snapshots',
    "Snapshots of the contract's dataset committed at another live site but not at this one (pending, uploading or behind here)",
    (p) => p.snapshots,
  );
  pendingGauge(
    'georep_pending_packs',
    'Distinct packs the pending snapshots need that the catalog does not record present at the site (objects to upload, manifests and index objects aside)',
    (p) => p.packs,
  );
  pendingGauge('georep_pending_bytes', 'Bytes of the packs in georep_pending_packs (as recorded in the catalog)', (p) => p.bytes);
  gauge(
    'georep_last_ship_duration_seconds',
    "Seconds the last ship of the contract's dataset to the site took (the newest snapshot committed or behind there), as the shipper measured it",
    ['contract', 'site'],
    async (set) => {
      for (const s of await ships()) set({ contract: s.contract, site: s.site }, s.seconds);
    },
  );
  gauge(
    'georep_last_ship_committed',
    '1 when that last ship committed the snapshot at the site, 0 when it left the site behind',
    ['contract', 'site'],
    async (set) => {
      for (const s of await ships()) set({ contract: s.contract, site: s.site }, s.state === 'committed' ? 1 : 0);
    },
  );
  gauge(
    'georep_last_ship_uploaded_bytes',
    'Bytes of packs that last ship uploaded to the site (0 when the site held them all)',
    ['contract', 'site'],
    async (set) => {
      for (const s of await ships()) set({ contract: s.contract, site: s.site }, s.bytesUploaded);
    },
  );
  const drillGauge = (name: string, help: string, pick: (d: Awaited<ReturnType<typeof lastDrills>>[number]) => number | null): void =>
    gauge(name, help, ['contract', 'site'], async (set) => {
      for (const d of await drills()) {
        const v = pick(d);
        if (v !== null) set({ contract: d.contract, site: d.site }, v);
      }
    });
  drillGauge('georep_last_drill_age_seconds', 'Seconds since the last finished restore drill of the contract at the site ended, by the database clock', (d) => d.ageSeconds);
  drillGauge('georep_last_drill_passed', '1 when the last finished drill of the contract at the site passed, 0 when it failed or could not run', (d) =>
    d.outcome === 'passed' ? 1 : 0,
  );
  drillGauge('georep_last_drill_duration_seconds', 'Seconds the last drill of the contract at the site took to restore everything (the RTO figure); absent when it did not finish a restore', (d) => d.totalSeconds);
  drillGauge('georep_last_drill_first_byte_seconds', 'Seconds from the start of the last drill of the contract at the site to the first restored byte', (d) => d.firstByteSeconds);
  drillGauge('georep_last_drill_snapshot_age_seconds', 'How old the snapshot the last drill restored was when the drill started (the RPO it proved)', (d) => d.snapshotAgeSeconds);
  gauge('georep_open_findings', 'Open (unresolved) verify findings at the live site, by kind (missing, corrupt, wrong-size, unexpected, unreadable)', ['site', 'kind'], async (set) => {
    // 0 for every kind at every site that holds a snapshot, so "no finding" is a value, not a gap.
    const [held, open] = await Promise.all([ages(), openFindingsBySite(db)]);
    for (const site of new Set(held.map((a) => a.site))) for (const kind of FINDING_KINDS) set({ site, kind }, 0);
    for (const f of open) set({ site: f.site, kind: f.kind }, f.count);
  });

  const ended = new Counter({
    name: 'georep_jobs_ended_total',
    help: 'Jobs this daemon ran, by kind and end (done, failed, retry, fenced, released)',
    labelNames: ['kind', 'end'],
    registers: [registry],
  });
  return {
    registry,
    scrape: async () => {
      memo = new Map();
      try {
        return await registry.metrics();
      } finally {
        memo = new Map();
      }
    },
    jobEnded: (job, end) => ended.inc({ kind: job.kind, end }),
  };
}
