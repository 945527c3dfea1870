// `georep status`: per registered site, the newest snapshot committed there (catalog), its age,
// the snapshots it is behind on and why; what waits in local staging; and the daemon's jobs that
// need an eye: unfinished ones that failed before (waiting out a backoff: a catch-up to a site
// that is down), and those that failed for good within the last day; and the runs an operator must
// see: every unfinished one, with whether its process is alive (catalog/run-liveness.ts: `stale`
// ones prune stops waiting for), and those prune ended as abandoned within the last day.
import type { CommandModule } from 'yargs';
import { listJobs, recentFailedJobs, type Job } from '../../catalog/queries/jobs.ts';
import { dbNow } from '../../catalog/clock.ts';
import { listUnfinishedRuns, recentAbandonedRuns, type Run } from '../../catalog/queries/runs.ts';
import { judgeRun } from '../../catalog/run-liveness.ts';
import { thisProcess } from '../../catalog/run-owner.ts';
import { processAlive } from '../../core/process-alive.ts';
import { listSites } from '../../catalog/queries/sites.ts';
import { listSnapshotStates } from '../../catalog/queries/snapshots.ts';
import { listPending, stagedBytes } from '../../replicator/ship/staging.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { openStagingSite } from '../ship-session.ts';
import { stagedRepositories } from '../staged.ts';
import { formatTable } from '../table.ts';

interface Args {
  json: boolean;
}

interface SiteStatus {
  site: string;
  latest: { snapshot: string; committedAt: string; ageSeconds: number } | null;
  behind: { snapshot: string; state: string; error: string | null }[];
}

interface JobStatus {
  id: number;
  contract: string | null;
  kind: string;
  tick: string;
  state: string;
  attempts: number;
  notBefore: string | null;
  error: string | null;
}

const DAY_MS = 86_400_000;

const jobStatus = (j: Job): JobStatus => ({
  id: j.id,
  contract: j.contract,
  kind: j.kind,
  tick: j.tick.toISOString(),
  state: j.state,
  attempts: j.attempts,
  notBefore: j.notBefore?.toISOString() ?? null,
  error: j.lastError,
});

interface RunStatus {
  id: number;
  kind: string;
  contract: string | null;
  startedAt: string;
  /** running: its process is taken for alive; stale: no longer (prune ends snapshot/ship ones); abandoned: ended so by prune. */
  state: 'running' | 'stale' | 'abandoned';
  owner: { host: string; pid: number } | null;
  /** Its last heartbeat (or start, for a run from before heartbeats). */
  lastSign: string;
  /** Why it counts as alive, or why not. */
  why: string;
}

const LIVE_BY = { own: 'this process', 'pid-alive': 'process alive on this host', heartbeat: 'heartbeat fresh' } as const;

function runStatus(run: Run, now: Date): RunStatus {
  const base = {
    id: run.id,
    kind: run.kind,
    contract: run.contract,
    startedAt: run.startedAt.toISOString(),
    owner: run.owner === null ? null : { host: run.owner.host, pid: run.owner.pid },
  };
  if (run.outcome === 'abandoned') {
    const said = (run.details.abandoned ?? {}) as { why?: string; lastSign?: string };
    return { ...base, state: 'abandoned', lastSign: said.lastSign ?? '-', why: said.why ?? '-' };
  }
  const v = judgeRun(run, { now, self: thisProcess(), pidAlive: processAlive });
  return v.state === 'live'
    ? { ...base, state: 'running', lastSign: v.lastSign.toISOString(), why: LIVE_BY[v.why] }
    : { ...base, state: 'stale', lastSign: v.lastSign.toISOString(), why: v.why };
}

interface StagingStatus {
  repository: string;
  pendingSnapshots: string[];
  packs: number;
  bytes: number;
}

export function statusCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'status',
    describe: 'per site: newest committed snapshot, its age, what it is behind on; bytes waiting in staging',
    builder: (y) => y.option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const now = ctx.clock.nowMs();
      let jobs: JobStatus[] = [];
      let runs: RunStatus[] = [];
      const sites = await withCatalog(ctx, async (db) => {
        const dbTime = await dbNow(db);
        runs = [...(await listUnfinishedRuns(db)), ...(await recentAbandonedRuns(db, DAY_MS))].map((r) => runStatus(r, dbTime));
        // Unfinished jobs that failed before (backing off), and recent failures: what an operator must see.
        const open = (await listJobs(db, { states: ['pending', 'running'] })).filter((j) => j.lastError !== null);
        jobs = [...open, ...(await recentFailedJobs(db, DAY_MS))].map(jobStatus);
        const out: SiteStatus[] = [];
        for (const site of await listSites(db)) {
          const states = await listSnapshotStates(db, { site: site.name });
          const latest = states.find((s) => s.state === 'committed' && s.committedAt !== null);
          out.push({
            site: site.name,
            latest:
              latest === undefined || latest.committedAt === null
                ? null
                : {
                    snapshot: latest.snapshot,
                    committedAt: latest.committedAt.toISOString(),
                    ageSeconds: Math.max(0, (now - latest.committedAt.getTime()) / 1000),
                  },
            behind: states
              .filter((s) => s.state !== 'committed')
              .map((s) => ({ snapshot: s.snapshot, state: s.state, error: s.error })),
          });
        }
        return out;
      });
      const staging: StagingStatus[] = [];
      for (const repository of await stagedRepositories(ctx.env)) {
        const site = await openStagingSite(ctx, repository);
        try {
          const { packs, bytes } = await stagedBytes(site);
          const pendingSnapshots = (await listPending(site)).map((p) => p.snapshot);
          staging.push({ repository, pendingSnapshots, packs, bytes });
        } finally {
          await site.close();
        }
      }
      if (args.json) {
        printJson(ctx, { sites, staging, jobs, runs });
        return;
      }
      if (sites.length === 0) print(ctx, 'no sites registered; georep site add registers one');
      else {
        print(
          ctx,
          formatTable(
            ['site', 'latest committed', 'age', 'behind'],
            sites.map((s) => [
              s.site,
              s.latest === null ? '-' : s.latest.snapshot.slice(0, 12),
              s.latest === null ? '-' : formatDuration(s.latest.ageSeconds),
              s.behind.length === 0
                ? '-'
                : s.behind.map((b) => `${b.snapshot.slice(0, 12)} ${b.state}${b.error === null ? '' : `: ${b.error}`}`).join('; '),
            ]),
          ),
        );
      }
      if (jobs.length > 0) {
        print(ctx, 'jobs needing attention (unfinished after a failure, or failed within a day):');
        print(
          ctx,
          formatTable(
            ['job', 'contract', 'kind', 'state', 'attempts', 'next try', 'last error'],
            jobs.map((j) => [
              String(j.id),
              j.contract ?? '(all sites)',
              j.kind,
              j.state,
              String(j.attempts),
              j.state === 'pending' ? (j.notBefore ?? 'now') : '-',
              j.error ?? '-',
            ]),
          ),
        );
      }
      if (runs.length > 0) {
        print(ctx, 'runs unfinished, or abandoned within a day (prune waits only for running snapshot/ship runs):');
        print(
          ctx,
          formatTable(
            ['run', 'kind', 'state', 'started', 'owner', 'last sign of life', 'why'],
            runs.map((r) => [
              String(r.id),
              r.kind,
              r.state,
              r.startedAt,
              r.owner === null ? '-' : `${r.owner.host} pid ${r.owner.pid}`,
              r.lastSign,
              r.why,
            ]),
          ),
        );
      }
      for (const s of staging) {
        if (s.pendingSnapshots.length === 0 && s.packs === 0) continue;
        print(
          ctx,
          `staging ${s.repository.slice(0, 12)}: ${s.pendingSnapshots.length} snapshot(s) waiting, ` +
            `${s.packs} packs, ${formatBytes(s.bytes)}`,
        );
      }
    },
  };
}
