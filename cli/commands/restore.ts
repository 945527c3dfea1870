// `georep restore <snapshot|latest> --to <dir> --site <url>`: restore a snapshot, or one path of it.
import type { CommandModule } from 'yargs';
import { findSnapshot, listSnapshots } from '../../repository/snapshots.ts';
import { restoreSnapshot } from '../../verifier/restore/restore.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { Progress } from '../progress.ts';
import { printProblems } from '../problems.ts';
import { openIndexed } from '../session.ts';

interface Args {
  snapshot: string;
  to: string;
  site: string;
  path: string | undefined;
  overwrite: 'never' | 'if-changed' | 'always';
  json: boolean;
}

export function restoreCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'restore <snapshot>',
    describe: 'restore a snapshot (or --path inside it) into a folder, checking every byte',
    builder: (y) =>
      y
        .positional('snapshot', { type: 'string', demandOption: true, describe: 'snapshot id, prefix, or latest' })
        .option('to', { type: 'string', demandOption: true, describe: 'target folder (created if missing)' })
        .option('site', { type: 'string', demandOption: true, describe: 'site URL of the repository' })
        .option('path', { type: 'string', describe: 'only this path of the snapshot' })
        .option('overwrite', {
          choices: ['never', 'if-changed', 'always'] as const,
          default: 'never' as const,
          describe: 'what to do with files already in the target',
        })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const session = await openIndexed(ctx, args.site);
      const progress = new Progress(ctx.stderr, ctx.clock);
      const started = ctx.clock.nowMs();
      try {
        const snapshot = findSnapshot(await listSnapshots(session.repo), args.snapshot);
        const result = await restoreSnapshot({
          reader: session.reader,
          index: session.index,
          tree: snapshot.manifest.tree,
          target: args.to,
          overwrite: args.overwrite,
          ...(args.path === undefined ? {} : { subPath: args.path }),
          onProgress: (done, total) => progress.update('restoring', done, total),
        });
        progress.done();
        if (result.problems.length > 0) ctx.exitCode = EXIT_FAILURE;
        const seconds = (ctx.clock.nowMs() - started) / 1000;
        if (args.json) {
          printJson(ctx, { snapshot: snapshot.id, ...result, seconds });
          return;
        }
        printProblems(ctx, result.problems);
        print(
          ctx,
          `restored snapshot ${snapshot.id.slice(0, 12)} to ${args.to}: ${result.files} files, ${result.dirs} folders, ` +
            `${result.symlinks} links, ${formatBytes(result.bytes)} in ${formatDuration(seconds)}` +
            (result.skipped > 0 ? `; ${result.skipped} left as they were` : '') +
            (result.problems.length > 0 ? `; ${result.problems.length} problems` : ''),
        );
      } finally {
        progress.done();
        await session.close();
      }
    },
  };
}
