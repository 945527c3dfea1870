// `georep snapshot <path> --site <url>`: snapshot a folder into the repository at one site;
// with `--to a,b,c`, into local staging and shipped to several (snapshot-to.ts); with
// `--contract <name>`, what and where the contract says (snapshot-contract.ts). `--postgres
// <ref>` snapshots databases instead of a folder, `--s3-source <url>` a bucket's objects
// (cli/snapshot-jobs.ts).
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { listSnapshots } from '../../repository/snapshots.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_PARTIAL } from '../exit-codes.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { Progress } from '../progress.ts';
import { printProblems } from '../problems.ts';
import { spillDir } from '../home.ts';
import { openForSnapshot, openIndexed } from '../session.ts';
import { prestartChunkers } from '../../replicator/snapshot/chunker-pool.ts';
import { directoryJob, findParent, postgresJob, s3Job, type SnapshotJob } from '../snapshot-jobs.ts';
import { snapshotTo } from '../snapshot-to.ts';
import { UsageError } from '../../core/errors.ts';

interface Args {
  path: string | undefined;
  contract: string | undefined;
  site: string | undefined;
  to: string[] | undefined;
  postgres: string | undefined;
  database: string[];
  's3-source': string | undefined;
  tag: string[];
  json: boolean;
}

export function snapshotCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'snapshot [path]',
    describe: 'snapshot a folder (or PostgreSQL databases, or a bucket) into the repository at a site',
    builder: (y) =>
      y
        .positional('path', { type: 'string', describe: 'folder to snapshot (with --contract: the contract says)' })
        .option('site', { type: 'string', describe: 'site URL of the repository (one site, no staging)' })
        .option('to', {
          type: 'string',
          array: true,
          describe: 'target sites a,b,c (names or URLs): build once in local staging, ship to each',
        })
        .option('contract', { type: 'string', describe: "snapshot the contract's dataset and ship it where the contract says" })
        .option('postgres', {
          type: 'string',
          describe: 'snapshot databases of this server: env:NAME or file:/path holding the URL (or a URL without password)',
        })
        .option('database', { type: 'string', array: true, default: [], describe: "with --postgres: a database to dump (repeatable; default: the URL's)" })
        .option('s3-source', {
          type: 'string',
          describe: "snapshot a bucket's objects: s3://bucket/prefix?endpoint=...&credentials=env:NAME|file:/path",
        })
        .check((a) => {
          if (a['s3-source'] !== undefined && (a.postgres !== undefined || a.path !== undefined || a.contract !== undefined)) {
            throw new UsageError('--s3-source goes alone: not with a folder, --postgres or --contract');
          }
          const modes = [a.site, a.to, a.contract].filter((m) => m !== undefined).length;
          if (modes !== 1) throw new UsageError('give one of --site <url>, --to a,b,c or --contract <name>');
          if (a.postgres !== undefined && a.contract !== undefined) throw new UsageError('--postgres and --contract do not go together: the contract names its source');
          if (a.postgres !== undefined && a.path !== undefined) throw new UsageError('give a folder or --postgres, not both');
          if (a.postgres === undefined && a.database.length > 0) throw new UsageError('--database needs --postgres');
          if (a.contract === undefined && a.postgres === undefined && a['s3-source'] === undefined && a.path === undefined) throw new UsageError('name the folder to snapshot');
          return true;
        })
        .option('tag', { type: 'string', array: true, default: [], describe: 'label the snapshot (repeatable)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (args.contract !== undefined) {
        // Imported here: contracts bring zod and yaml, which a snapshot of a path does not need.
        const { snapshotByContract } = await import('../snapshot-contract.ts');
        await snapshotByContract(ctx, { contract: args.contract, path: args.path, tags: args.tag, json: args.json });
        return;
      }
      const folder = args['s3-source'] === undefined && args.postgres === undefined;
      const job: SnapshotJob =
        args['s3-source'] !== undefined
          ? await s3Job(ctx, args['s3-source'])
          : args.postgres !== undefined
            ? await postgresJob(ctx, args.postgres, args.database)
            : directoryJob(ctx, path.resolve(args.path ?? '.'));
      if (args.to !== undefined) {
        // A folder's chunking threads boot while the catalog, the sites and the repository open.
        if (folder) prestartChunkers();
        await snapshotTo(ctx, { job, to: args.to, tags: args.tag, json: args.json });
        return;
      }
      // Most jobs need only the blob ids, kept in memory that does not grow with them (repository/index/spilled-ids.ts).
      // A folder's chunking threads boot while the index loads, on a core that is idle then, and
      // not during the password's key derivation: booting beside it took as long, and its 64 MiB
      // and theirs made the peak of a snapshot with nothing new 167 MiB instead of 140.
      const session = job.readsParent
        ? await openIndexed(ctx, args.site ?? '')
        : await openForSnapshot(ctx, args.site ?? '', spillDir(ctx.env), folder ? prestartChunkers : undefined);
      const index = 'known' in session ? session.known : session.index;
      const progress = new Progress(ctx.stderr, ctx.clock);
      const started = ctx.clock.nowMs();
      try {
        const parent = findParent((await listSnapshots(session.repo)).snapshots, job);
        const result = await job.build({ repo: session.repo, index, parent, tags: args.tag, progress });
        progress.done();
        if (result.problems.length > 0) ctx.exitCode = EXIT_PARTIAL;
        const seconds = (ctx.clock.nowMs() - started) / 1000;
        if (args.json) {
          printJson(ctx, { id: result.id, snapshot: result.manifest, problems: result.problems, seconds });
          return;
        }
        printProblems(ctx, result.problems, 'warning');
        const s = result.manifest.summary;
        print(
          ctx,
          `snapshot ${result.id.slice(0, 12)} saved: ${s.files} files, ${s.dirs} folders, ` +
            `${formatBytes(s.bytes)} (${formatBytes(s.newBytes)} new, ${formatBytes(s.storedBytes)} stored) ` +
            `in ${formatDuration(seconds)}` +
            (result.problems.length > 0 ? `; ${result.problems.length} paths could not be read in full` : ''),
        );
      } finally {
        progress.done();
        await session.close();
      }
    },
  };
}
