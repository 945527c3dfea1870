// `georep diff <a> <b> --site <url>`: what changed between two snapshots.
import type { CommandModule } from 'yargs';
import { findSnapshot, listSnapshots } from '../../repository/snapshots.ts';
import { countChanges, diffTrees, type Change, type ChangeKind } from '../../verifier/diff.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { openIndexed } from '../session.ts';

interface Args {
  a: string;
  b: string;
  site: string;
  json: boolean;
}

const MARK: Record<ChangeKind, string> = { added: '+', removed: '-', modified: 'M', metadata: 'U', type: 'T' };

export function diffCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'diff <a> <b>',
    describe: 'show what changed between two snapshots (+ added, - removed, M content, U metadata, T type)',
    builder: (y) =>
      y
        .positional('a', { type: 'string', demandOption: true, describe: 'older snapshot (id, prefix or latest)' })
        .positional('b', { type: 'string', demandOption: true, describe: 'newer snapshot (id, prefix or latest)' })
        .option('site', { type: 'string', demandOption: true, describe: 'site URL of the repository' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const session = await openIndexed(ctx, args.site);
      try {
        const listing = await listSnapshots(session.repo);
        const a = findSnapshot(listing, args.a);
        const b = findSnapshot(listing, args.b);
        const changes: Change[] = [];
        for await (const change of diffTrees((id) => session.reader.readTree(id), a.manifest.tree, b.manifest.tree)) {
          changes.push(change);
          if (!args.json) print(ctx, `${MARK[change.kind]}  ${change.path}${change.type === 'dir' ? '/' : ''}`);
        }
        const stats = countChanges(changes);
        if (args.json) {
          printJson(ctx, { from: a.id, to: b.id, changes, stats });
          return;
        }
        print(
          ctx,
          `${stats.added} added, ${stats.removed} removed, ${stats.modified} modified, ` +
            `${stats.metadata} with new metadata, ${stats.type} changed type`,
        );
      } finally {
        await session.close();
      }
    },
  };
}
