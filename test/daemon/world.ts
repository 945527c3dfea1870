// What the daemon tests share: a PostgreSQL catalog of their own, two partner sites (file://
// folders, or buckets at two Ceph RGW gateways), one repository and three contracts (one per
// tier) whose snapshots run every minute unless told otherwise, plus daemons built the way
// `georep daemon` builds them, each on its own catalog connection (and, if asked, its own home:
// another machine).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CatalogDb } from '../../catalog/db.ts';
import { migrate } from '../../catalog/migrate.ts';
import { openCatalog } from '../../catalog/open.ts';
import { cliJobRunner } from '../../cli/daemon-jobs.ts';
import { run } from '../../cli/main.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import { Daemon, type DaemonOptions, type JobRunner } from '../../replicator/daemon/daemon.ts';
import { daemonMetrics, type DaemonMetrics } from '../../replicator/daemon/metrics.ts';
import { BucketRegistry } from '../../sites/wrappers/bucket-registry.ts';
import { bucketSite, catalogEnv, type S3Endpoint } from '../ship/fixtures.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';

const FAST_KDF = ['--kdf-memory', '19MiB', '--kdf-iterations', '2'];
export const CONTRACTS = [
  { name: 'hospitals', tier: 'critical', rpo: '2h' },
  { name: 'shelters', tier: 'standard', rpo: '1h' },
  { name: 'archive', tier: 'bulk', rpo: '3h' },
] as const;
const SITES = [
  ['chengdu-a', '30.66', '104.07', 'sichuan'],
  ['xian-c', '34.34', '108.94', 'shaanxi'],
] as const;

export interface World {
  tmp: string;
  env: Record<string, string>;
  /** Site name → its folder (file sites; empty with Ceph sites). */
  sites: Record<string, string>;
  /** Site name → its URL. */
  urls: Record<string, string>;
  sources: Record<string, string>;
  cli(args: string[], code?: number): Promise<CliResult>;
  open(): Promise<CatalogDb>;
  /** A daemon on a catalog connection of its own that runs jobs through the CLI, as `georep daemon` does. */
  daemon(
    name: string,
    options?: WorldDaemonOptions,
    machine?: { home?: string },
  ): Promise<{ daemon: Daemon; db: CatalogDb; metrics: DaemonMetrics }>;
}

export interface WorldOptions {
  keepLast?: number;
  /** Snapshot cron per contract name; default every minute. */
  schedules?: Partial<Record<string, string>>;
  /** The RPO of every contract (default: each its own, 1-3 h); a rare schedule needs a longer one. */
  rpo?: string;
  /** verify.drillSites of every contract; default rotate. */
  drillSites?: string[];
  /** Buckets at these Ceph gateways (two) instead of file:// folders. */
  ceph?: readonly S3Endpoint[];
}

export type WorldDaemonOptions = Partial<DaemonOptions> & {
  /** Wraps the CLI job runner, to hold a job while a test looks at it (runJob, if given, wins). */
  around?: (runJob: JobRunner) => JobRunner;
};

/** scrub and drill crons are given per test; snapshots run every minute. */
export async function makeWorld(
  label: string,
  crons: { scrub: string; drill: string },
  options: WorldOptions = {},
): Promise<World> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), `georep-daemon-${label}-`));
  const env: Record<string, string> = {
    GEOREP_HOME: path.join(tmp, 'home'),
    GEOREP_PASSWORD: `pw-${randomBytes(6).toString('hex')}`,
    ...(await catalogEnv('postgres', `daemon_${label}`)),
  };
  const cli = async (args: string[], code = 0): Promise<CliResult> => {
    const r = await runCli(args, { env });
    if (r.code !== code) throw new Error(`georep ${args.join(' ')} exited ${r.code}, not ${code}\n${r.stderr}${r.stdout}`);
    return r;
  };
  const sites: Record<string, string> = {};
  const urls: Record<string, string> = {};
  for (const [i, [name, lat, lon, region]] of SITES.entries()) {
    const gateway = options.ceph?.[i];
    if (gateway !== undefined) {
      const spec = await bucketSite(gateway, `${label}${name}`);
      Object.assign(env, spec.env);
      urls[name] = spec.url;
    } else {
      sites[name] = path.join(tmp, name);
      await mkdir(sites[name]);
      urls[name] = `file://${sites[name]}`;
    }
    await cli(['site', 'add', name, urls[name]!, '--region', region, '--lat', lat, '--lon', lon, '--jurisdiction', 'CN']);
  }
  await cli(['init', '--site', urls['chengdu-a']!, ...FAST_KDF, '--chunk-avg', '16384', '--pack-size', '65536']);
  const sources: Record<string, string> = {};
  for (const c of CONTRACTS) {
    sources[c.name] = path.join(tmp, `src-${c.name}`);
    await mkdir(sources[c.name]!);
    await writeFile(path.join(sources[c.name]!, 'base.csv'), `name,beds\n${c.name},1\n`);
    const file = path.join(tmp, `${c.name}.yaml`);
    await writeFile(
      file,
      [
        `contract: ${c.name}`,
        `dataset: { name: ${c.name}, source: { type: directory, path: ${sources[c.name]} } }`,
        `tier: ${c.tier}`,
        `schedule: "${options.schedules?.[c.name] ?? '* * * * *'}"`,
        `rpo: ${options.rpo ?? c.rpo}`,
        'copies: 2',
        'placement: { sites: [chengdu-a, xian-c], minRegions: 2, minDistanceKm: 300, jurisdictions: [CN] }',
        `retention: { last: ${options.keepLast ?? 3} }`,
        `verify: { scrub: "${crons.scrub}", drill: "${crons.drill}"${options.drillSites ? `, drillSites: [${options.drillSites.join(', ')}]` : ''} }`,
        '',
      ].join('\n'),
    );
    await cli(['policy', 'apply', file]);
  }
  const open = async (): Promise<CatalogDb> => {
    const db = await openCatalog({ home: env.GEOREP_HOME!, url: env.GEOREP_CATALOG_URL! });
    await migrate(db);
    return db;
  };
  const daemon = async (
    name: string,
    { around, ...options }: WorldDaemonOptions = {},
    machine: { home?: string } = {},
  ): Promise<{ daemon: Daemon; db: CatalogDb; metrics: DaemonMetrics }> => {
    const db = await open();
    const metrics = daemonMetrics(db, options.skewMs === undefined ? {} : { skewMs: options.skewMs });
    const clock: Clock = options.clock ?? systemClock;
    const logger = options.logger ?? createLogger({ level: 'silent' });
    const ctx = { env: machine.home === undefined ? env : { ...env, GEOREP_HOME: machine.home }, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, clock, logger, exitCode: 0, buckets: new BucketRegistry(clock) };
    const d = new Daemon({
      db,
      owner: `${name}-${randomBytes(3).toString('hex')}`,
      leaseMs: 60_000,
      concurrency: 2,
      maxAttempts: 3,
      pollMs: 1000,
      clock,
      logger,
      runJob: around === undefined ? cliJobRunner(ctx, run) : around(cliJobRunner(ctx, run)),
      onJobEnded: metrics.jobEnded,
      ...options,
    });
    return { daemon: d, db, metrics };
  };
  return { tmp, env, sites, urls, sources, cli, open, daemon };
}

/** The snapshot manifests a file:// site holds. */
export async function manifestsAt(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, 'snapshots')).catch(() => [])).sort();
}
