// `georep daemon [--listen :9464] [--concurrency 2] [--lease 5m] [--poll 15s] [--max-attempts 3]
//  [--backoff 30s] [--backoff-max 15m] [--prune "0 3 * * *"|off] [--shutdown-timeout 60s] [--once]`:
// runs every applied contract's schedule, and prune over all sites on its own cron. Each cron tick
// becomes a job in the catalog, claimed by exactly one of however many daemons share the
// PostgreSQL catalog. SIGTERM or SIGINT: stop claiming, let running jobs finish within the
// shutdown timeout, give the rest back (pending, for the next daemon) and exit 0. --once: one
// round (schedule, run everything due), then exit; for cron-driven use and tests.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { Cron } from 'croner';
import { Daemon } from '../../replicator/daemon/daemon.ts';
import { BucketRegistry } from '../../sites/wrappers/bucket-registry.ts';
import { daemonMetrics } from '../../replicator/daemon/metrics.ts';
import { openCatalogFor } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { serveDaemonHttp, parseListen, type DaemonHttp } from '../daemon-http.ts';
import { cliJobRunner, type RunCommand } from '../daemon-jobs.ts';
import { parseDuration } from '../duration.ts';
import { EXIT_PARTIAL } from '../exit-codes.ts';

interface Args {
  concurrency: number;
  lease: string;
  poll: string;
  'max-attempts': number;
  'shutdown-timeout': string;
  backoff: string;
  'backoff-max': string;
  prune: string;
  once: boolean;
  listen: string | undefined;
  json: boolean;
}

export function daemonCommand(ctx: CliContext, runCommand: RunCommand): CommandModule<object, Args> {
  return {
    command: 'daemon',
    describe: "run the applied contracts' schedules (several daemons may share one PostgreSQL catalog)",
    builder: (y) =>
      y
        .option('concurrency', { type: 'number', default: 2, describe: 'jobs run at once by this daemon' })
        .option('lease', { type: 'string', default: '5m', describe: 'how long a claimed job is ours without a heartbeat' })
        .option('poll', { type: 'string', default: '15s', describe: 'pause between scheduling rounds' })
        .option('max-attempts', { type: 'number', default: 3, describe: 'claims of a job before it is failed' })
        .option('backoff', { type: 'string', default: '30s', describe: 'wait after a failed attempt, doubled after each (until --backoff-max)' })
        .option('backoff-max', { type: 'string', default: '15m', describe: 'longest wait between attempts' })
        .option('prune', { type: 'string', default: DEFAULT_PRUNE, describe: "cron of 'prune --apply' over every site (UTC), or off" })
        .option('shutdown-timeout', { type: 'string', default: '60s', describe: 'how long SIGTERM waits for running jobs' })
        .option('listen', { type: 'string', describe: 'serve /healthz, /metrics and /status (the readiness report) at [host]:port (host: 127.0.0.1 unless named)' })
        .option('once', { type: 'boolean', default: false, describe: 'schedule, run what is due, exit' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (!Number.isInteger(args.concurrency) || args.concurrency < 1) {
        throw new UsageError(`--concurrency must be a whole number of at least 1, not ${args.concurrency}`);
      }
      if (!Number.isInteger(args['max-attempts']) || args['max-attempts'] < 1) {
        throw new UsageError(`--max-attempts must be a whole number of at least 1, not ${args['max-attempts']}`);
      }
      const leaseMs = parseDuration(args.lease, '--lease');
      const pollMs = parseDuration(args.poll, '--poll');
      const shutdownMs = parseDuration(args['shutdown-timeout'], '--shutdown-timeout');
      const backoff = { baseMs: parseDuration(args.backoff, '--backoff'), capMs: parseDuration(args['backoff-max'], '--backoff-max') };
      if (!(backoff.baseMs > 0) || backoff.capMs < backoff.baseMs) {
        throw new UsageError(`--backoff ${args.backoff} must be more than 0 and no longer than --backoff-max ${args['backoff-max']}`);
      }
      const prune = parsePruneCron(args.prune);
      const listen = args.listen === undefined ? undefined : parseListen(args.listen);
      if (!ctx.env.GEOREP_CATALOG_URL) {
        // Each job opens the catalog itself; the embedded PGlite folder admits one process at a time.
        throw new UsageError('georep daemon needs a PostgreSQL catalog', {
          hint: 'set GEOREP_CATALOG_URL=postgres://... (see README: catalog); the embedded catalog serves one command at a time',
        });
      }
      const owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
      const logger = ctx.logger.child({ daemon: owner });
      const db = await openCatalogFor(ctx);
      const metrics = daemonMetrics(db);
      const daemon = new Daemon({
        db,
        owner,
        leaseMs,
        pollMs,
        concurrency: args.concurrency,
        maxAttempts: args['max-attempts'],
        clock: ctx.clock,
        logger,
        // One bandwidth bucket per site (and contract) for all of this process's jobs.
        runJob: cliJobRunner({ ...ctx, logger, buckets: new BucketRegistry(ctx.clock) }, runCommand),
        onJobEnded: metrics.jobEnded,
        backoff,
        prune,
      });
      let httpServer: DaemonHttp | undefined;
      try {
        if (args.once) {
          await daemon.runOnce();
          const ends = daemon.ended.map((e) => ({ job: e.job.id, contract: e.job.contract, kind: e.job.kind, tick: e.job.tick, end: e.end }));
          if (args.json) printJson(ctx, { owner, jobs: ends });
          else for (const e of ends) print(ctx, `${e.contract ?? '(all sites)'} ${e.kind} ${e.tick.toISOString()}: ${e.end}`);
          if (ends.some((e) => e.end !== 'done')) ctx.exitCode = EXIT_PARTIAL;
          return;
        }
        if (listen) {
          // Stuck: no round for three poll intervals plus a lease (a round can wait on a slow catalog).
          httpServer = await serveDaemonHttp(listen, { db, daemon, metrics, staleMs: 3 * pollMs + leaseMs, logger, clock: ctx.clock });
          logger.info({ url: httpServer.url }, 'serving /healthz, /metrics, /status and /status.json');
        }
        logger.info({ concurrency: args.concurrency, leaseMs }, 'daemon started');
        const signalled = new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        });
        const loop = daemon.loop();
        const signal = await signalled;
        logger.info({ signal, running: daemon.runningCount, shutdownMs }, 'stopping: no new claims');
        const released = await daemon.stop(shutdownMs);
        await loop;
        logger.info({ released: released.map((j) => j.id) }, 'daemon stopped');
        if (released.length > 0) {
          // Their leases are given back; the abandoned work must not outlive us and finish late.
          await db.close().catch(() => undefined);
          process.exit(0);
        }
      } finally {
        await httpServer?.close().catch(() => undefined);
        await db.close().catch(() => undefined);
      }
    },
  };
}

/** Prune at 03:00 UTC daily: after a night's snapshots, and its grace (24 h) spans a day of runs. */
const DEFAULT_PRUNE = '0 3 * * *';

/** --prune: a cron expression (checked now, not at the first tick), or off. */
function parsePruneCron(text: string): string | null {
  if (text === 'off') return null;
  try {
    new Cron(text, { paused: true, timezone: 'UTC' });
  } catch (err) {
    throw new UsageError(`--prune ${JSON.stringify(text)} is not a cron expression: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'five fields, e.g. "0 3 * * *" (daily at 03:00 UTC), or off',
    });
  }
  return text;
}
