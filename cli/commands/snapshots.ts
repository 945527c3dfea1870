// `georep snapshots --site <url>`: the snapshots a site holds, oldest first.
import type { CommandModule } from 'yargs';
import { listSnapshots } from '../../repository/snapshots.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { formatBytes } from '../format.ts';
import { openRepository } from '../session.ts';
import { formatTable } from '../table.ts';

interface Args {
  site: string;
  json: boolean;
}

export function snapshotsCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'snapshots',
    describe: 'list the snapshots at a site',
    builder: (y) =>
      y
        .option('site', { type: 'string', demandOption: true, describe: 'site URL of the repository' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const session = await openRepository(ctx, args.site);
      try {
        const { snapshots, problems } = await listSnapshots(session.repo);
        if (problems.length > 0) ctx.exitCode = EXIT_FAILURE;
        if (args.json) {
          printJson(ctx, { snapshots: snapshots.map((s) => ({ id: s.id, ...s.manifest })), problems });
          return;
        }
        for (const p of problems) ctx.stderr.write(`damaged snapshot ${p.id}: ${p.message}\n`);
        print(
          ctx,
          formatTable(
            ['id', 'time', 'host', 'files', 'size', 'paths'],
            snapshots.map((s) => [
              s.id.slice(0, 12),
              s.manifest.time.replace('T', ' ').slice(0, 19),
              s.manifest.host,
              String(s.manifest.summary.files),
              formatBytes(s.manifest.summary.bytes),
              s.manifest.paths.join(' '),
            ]),
          ),
        );
        print(ctx, `${snapshots.length} snapshots`);
      } finally {
        await session.close();
      }
    },
  };
}
