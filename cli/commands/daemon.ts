// `georep daemon [--listen :9464] [--concurrency 2] [--lease 5m] [--poll 15s] [--max-attempts 3]
//  [--shutdown-timeout 60s] [--once]`: runs every applied contract's schedule. Each cron tick
// becomes a job in the catalog, claimed by exactly one of however many daemons share the
// PostgreSQL catalog. SIGTERM or SIGINT: stop claiming, let running jobs finish within the
// shutdown timeout, give the rest back (pending, for the next daemon) and exit 0. --once: one
// round (schedule, run everything due), then exit; for cron-driven use and tests.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { Daemon } from '../../replicator/daemon/daemon.ts';
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
        runJob: cliJobRunner({ ...ctx, logger }, runCommand),
        onJobEnded: metrics.jobEnded,
      });
      let httpServer: DaemonHttp | undefined;
      try {
        if (args.once) {
          await daemon.runOnce();
          const ends = daemon.ended.map((e) => ({ job: e.job.id, contract: e.job.contract, kind: e.job.kind, tick: e.job.tick, end: e.end }));
          if (args.json) printJson(ctx, { owner, jobs: ends });
          else for (const e of ends) print(ctx, `${e.contract} ${e.kind} ${e.tick.toISOString()}: ${e.end}`);
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
