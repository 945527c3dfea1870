// `georep restore <snapshot|latest> --to <dir> [--site <name|url>[,<name|url>...]]`: restore a
// snapshot, or one path of it. One URL: that site only, without the catalog. Names, or several
// sites: read from the first and fail over to the next when a read fails (cli/restore-sources.ts).
// No --site: the registered sites the catalog says hold the snapshot committed, healthiest first.
// `--postgres-target <ref>` restores a database snapshot into a server with pg_restore instead
// (verifier/restore/postgres-restore.ts); `--to-bucket <s3 url>` a bucket snapshot into a bucket,
// keys, bytes and headers (verifier/restore/s3-restore.ts); `--to` restores any snapshot as files.
import type { CommandModule } from 'yargs';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { getSite } from '../../catalog/queries/sites.ts';
import { RESTORE_FAILOVER_ACTION } from '../../catalog/queries/sources.ts';
import { describeError } from '../../core/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import type { SiteSwitch } from '../../repository/failover-reader.ts';
import type { BlobLocator } from '../../repository/index.ts';
import { findSnapshot, listSnapshots, type SnapshotEntry } from '../../repository/snapshots.ts';
import { restoreSnapshot } from '../../verifier/restore/restore.ts';
import { prestartWriters } from '../../verifier/restore/write-pool.ts';
import { resolvePostgres } from '../../sites/postgres/connection.ts';
import { findPgBin } from '../../sites/postgres/tools.ts';
import { UsageError } from '../../core/errors.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { Progress } from '../progress.ts';
import { parseSize } from '../size.ts';
import { printProblems } from '../problems.ts';
import { chooseSources, openSources } from '../restore-sources.ts';
import { openIndexed } from '../session.ts';
import { looksLikeUrl } from '../site-registry.ts';
import { openSourceBucket } from '../wiring.ts';

interface Args {
  snapshot: string;
  to: string | undefined;
  'postgres-target': string | undefined;
  'to-bucket': string | undefined;
  database: string | undefined;
  clean: boolean;
  owner: boolean;
  site: string | undefined;
  path: string | undefined;
  overwrite: 'never' | 'if-changed' | 'always';
  'multipart-threshold': string | undefined;
  'part-size': string | undefined;
  json: boolean;
}

interface Source {
  reader: BlobReader;
  index: BlobLocator;
  snapshot: SnapshotEntry;
  /** The site the restore started from. */
  site: string;
  switches: SiteSwitch[];
}

export function restoreCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'restore <snapshot>',
    describe: 'restore a snapshot (or --path inside it) into a folder, a database snapshot into a server, a bucket snapshot into a bucket',
    builder: (y) =>
      y
        .positional('snapshot', { type: 'string', demandOption: true, describe: 'snapshot id, prefix, or latest' })
        .option('to', { type: 'string', describe: 'target folder (created if missing)' })
        .option('postgres-target', {
          type: 'string',
          describe: 'restore a database snapshot with pg_restore into this database: env:NAME or file:/path holding its URL',
        })
        .option('to-bucket', {
          type: 'string',
          describe: 'restore a bucket snapshot into a bucket: s3://bucket/prefix?endpoint=...&credentials=env:NAME|file:/path',
        })
        .option('multipart-threshold', {
          type: 'string',
          describe: 'with --to-bucket: objects larger than this go as multipart uploads (default and most 5GiB, the PutObject cap; below it ETags change)',
        })
        .option('part-size', { type: 'string', describe: 'with --to-bucket: multipart part size (default 64MiB, raised to fit 10,000 parts; at least 5MiB)' })
        .option('database', { type: 'string', describe: "with --postgres-target: which of the snapshot's databases" })
        .option('clean', { type: 'boolean', default: false, describe: 'with --postgres-target: restore over a database that is not empty' })
        .option('owner', { type: 'boolean', default: true, describe: 'with --postgres-target: --no-owner leaves out ownership and privileges' })
        .check((a) => {
          if ([a.to, a['postgres-target'], a['to-bucket']].filter((t) => t !== undefined).length !== 1) {
            throw new UsageError('give one of --to <dir>, --postgres-target <ref> or --to-bucket <s3 url>');
          }
          if (a['to-bucket'] !== undefined && a.path !== undefined) throw new UsageError('--path does not go with --to-bucket');
          if (a['postgres-target'] !== undefined && a.path !== undefined) throw new UsageError('--path does not go with --postgres-target');
          if (a['to-bucket'] === undefined && (a['multipart-threshold'] !== undefined || a['part-size'] !== undefined)) {
            throw new UsageError('--multipart-threshold and --part-size go with --to-bucket only');
          }
          return true;
        })
        .option('site', {
          type: 'string',
          describe:
            'site name or URL of the repository; a,b: fail over in that order; ' +
            'default: the registered sites holding the snapshot, healthiest first',
        })
        .option('path', { type: 'string', describe: 'only this path of the snapshot' })
        .option('overwrite', {
          choices: ['never', 'if-changed', 'always'] as const,
          default: 'never' as const,
          describe: 'what to do with files already in the target',
        })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      // Its writer threads boot while the repository, its index and the snapshot open.
      if (args.to !== undefined) prestartWriters();
      if (args.site !== undefined && looksLikeUrl(args.site) && !args.site.includes(',')) {
        // One URL: exactly one site, no catalog.
        const session = await openIndexed(ctx, args.site);
        try {
          const snapshot = findSnapshot(await listSnapshots(session.repo), args.snapshot);
          await restoreFrom(ctx, args, { ...session, snapshot, site: args.site, switches: [] });
        } finally {
          await session.close();
        }
        return;
      }
      const choice = await withCatalog(ctx, (db) => chooseSources(ctx, db, args.snapshot, args.site));
      const switches: SiteSwitch[] = [];
      const onSwitch = (event: SiteSwitch): void => {
        switches.push(event);
        ctx.logger.warn(event, 'restore switched site');
      };
      const session = await openSources(ctx, choice, args.snapshot, onSwitch);
      try {
        await restoreFrom(ctx, args, { ...session, site: session.primary, switches });
      } finally {
        await session.close();
      }
      if (switches.length > 0) await auditFailovers(ctx, args.snapshot, switches);
    },
  };
}

async function restoreFrom(ctx: CliContext, args: Args, source: Source): Promise<void> {
  const ref = args['postgres-target'];
  if (ref !== undefined) return restoreDatabase(ctx, args, ref, source);
  if (args['to-bucket'] !== undefined) return restoreBucket(ctx, args, args['to-bucket'], source);
  const { snapshot, switches } = source;
  const to = args.to!;
  const progress = new Progress(ctx.stderr, ctx.clock);
  const started = ctx.clock.nowMs();
  try {
    const result = await restoreSnapshot({
      reader: source.reader,
      index: source.index,
      tree: snapshot.manifest.tree,
      target: to,
      overwrite: args.overwrite,
      // The whole snapshot's bytes are in its manifest; a path's are summed by a walk of its trees.
      ...(args.path === undefined ? { totalBytes: snapshot.manifest.summary.bytes } : { subPath: args.path }),
      onProgress: (done, total) => progress.update('restoring', done, total),
    });
    progress.done();
    if (result.problems.length > 0) ctx.exitCode = EXIT_FAILURE;
    const seconds = (ctx.clock.nowMs() - started) / 1000;
    if (args.json) {
      printJson(ctx, { snapshot: snapshot.id, site: source.site, switches, ...result, seconds });
      return;
    }
    printProblems(ctx, result.problems);
    for (const line of describeSwitches(switches)) print(ctx, line);
    print(
      ctx,
      `restored snapshot ${snapshot.id.slice(0, 12)} to ${to}: ${result.files} files, ${result.dirs} folders, ` +
        `${result.symlinks} links, ${formatBytes(result.bytes)} in ${formatDuration(seconds)}` +
        (result.skipped > 0 ? `; ${result.skipped} left as they were` : '') +
        (result.problems.length > 0 ? `; ${result.problems.length} problems` : ''),
    );
  } finally {
    progress.done();
  }
}

async function restoreDatabase(ctx: CliContext, args: Args, ref: string, source: Source): Promise<void> {
  // Imported here, like the bucket restore's modules below: pg and the S3 SDK are not loaded by a
  // restore into a folder, the common case.
  const { restorePostgres } = await import('../../verifier/restore/postgres-restore.ts');
  const target = await resolvePostgres(ref, ctx.env);
  const binDir = await findPgBin(ctx.env);
  const progress = new Progress(ctx.stderr, ctx.clock);
  const started = ctx.clock.nowMs();
  try {
    const result = await restorePostgres({
      reader: source.reader,
      manifest: source.snapshot.manifest,
      target,
      ...(args.database === undefined ? {} : { database: args.database }),
      clean: args.clean,
      noOwner: !args.owner,
      binDir,
      env: ctx.env,
      onProgress: (done, total) => progress.update('pg_restore', done, total),
    });
    progress.done();
    const seconds = (ctx.clock.nowMs() - started) / 1000;
    if (args.json) {
      printJson(ctx, { snapshot: source.snapshot.id, site: source.site, switches: source.switches, ...result, seconds });
      return;
    }
    for (const line of describeSwitches(source.switches)) print(ctx, line);
    print(
      ctx,
      `restored database ${result.from} of snapshot ${source.snapshot.id.slice(0, 12)} into ${result.to}` +
        `${result.created ? ' (created)' : ''}: ${formatBytes(result.bytes)} of dump in ${formatDuration(seconds)}`,
    );
  } finally {
    progress.done();
  }
}

async function restoreBucket(ctx: CliContext, args: Args, url: string, source: Source): Promise<void> {
  const { MAX_PUT, restoreS3 } = await import('../../verifier/restore/s3-restore.ts');
  const { MAX_PART, MIN_PART } = await import('../../sites/s3/multipart-upload.ts');
  const threshold = args['multipart-threshold'] === undefined ? undefined : parseSize(args['multipart-threshold'], '--multipart-threshold');
  const partSize = args['part-size'] === undefined ? undefined : parseSize(args['part-size'], '--part-size');
  if (threshold !== undefined && (threshold < 1 || threshold > MAX_PUT)) throw new UsageError('--multipart-threshold must be between 1 byte and 5GiB');
  if (partSize !== undefined && (partSize < MIN_PART || partSize > MAX_PART)) throw new UsageError('--part-size must be between 5MiB and 5GiB (S3\'s limits)');
  const { bucket, prefix, name } = await openSourceBucket(url, ctx);
  const progress = new Progress(ctx.stderr, ctx.clock);
  const started = ctx.clock.nowMs();
  try {
    const result = await restoreS3({
      reader: source.reader,
      index: source.index,
      manifest: source.snapshot.manifest,
      target: bucket,
      prefix,
      replace: args.overwrite === 'always',
      ...(threshold === undefined ? {} : { multipartThreshold: threshold }),
      ...(partSize === undefined ? {} : { partSize }),
      onProgress: (done, total) => progress.update('putting objects', done, total),
    });
    progress.done();
    const seconds = (ctx.clock.nowMs() - started) / 1000;
    if (args.json) {
      printJson(ctx, { snapshot: source.snapshot.id, site: source.site, switches: source.switches, to: name, ...result, seconds });
      return;
    }
    for (const line of describeSwitches(source.switches)) print(ctx, line);
    print(
      ctx,
      `restored snapshot ${source.snapshot.id.slice(0, 12)} into ${name}: ${result.objects} objects, ` +
        `${formatBytes(result.bytes)}${result.multipart > 0 ? ` (${result.multipart} in multipart uploads)` : ''} in ${formatDuration(seconds)}`,
    );
  } finally {
    progress.done();
    bucket.close();
  }
}

/** One line per pair of sites switched between, with the first reason and how many reads moved. */
function describeSwitches(switches: readonly SiteSwitch[]): string[] {
  const pairs = new Map<string, { first: SiteSwitch; count: number }>();
  for (const s of switches) {
    const key = `${s.from}\u0000${s.to}`;
    const seen = pairs.get(key);
    if (seen === undefined) pairs.set(key, { first: s, count: 1 });
    else seen.count++;
  }
  return [...pairs.values()].map(
    ({ first, count }) =>
      `switched from site ${first.from} to site ${first.to}` +
      `${count > 1 ? ` (${count} reads)` : ''}: ${first.reason}`,
  );
}

/** Records, per registered site a read switched away from, that it failed: later choices put it behind. */
async function auditFailovers(ctx: CliContext, snapshot: string, switches: readonly SiteSwitch[]): Promise<void> {
  try {
    await withCatalog(ctx, async (db) => {
      const from = [...new Set(switches.map((s) => s.from))];
      for (const site of from) {
        if ((await getSite(db, site)) === null) continue;
        const mine = switches.filter((s) => s.from === site);
        await appendAudit(db, {
          actor: auditActor(ctx),
          action: RESTORE_FAILOVER_ACTION,
          subject: site,
          details: { snapshot, to: [...new Set(mine.map((s) => s.to))], reads: mine.length, reason: mine[0]!.reason },
        });
      }
    });
  } catch (err) {
    ctx.logger.warn({ problem: describeError(err) }, 'catalog: could not record the failover');
  }
}
