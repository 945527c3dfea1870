// `georep key remove <id> --site <url>`: delete a key file, i.e. revoke its password. The key in use
// cannot be removed, so a repository is never left without a working key.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { openRepository } from '../session.ts';

interface Args {
  id: string;
  site: string;
  json: boolean;
}

export function keyRemoveCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'remove <id>',
    describe: 'remove a key file (revoke its password); not the one in use',
    builder: (y) =>
      y
        .positional('id', { type: 'string', demandOption: true, describe: 'the key file id, as key list shows it' })
        .option('site', { type: 'string', demandOption: true, describe: 'the site holding the repository' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (!/^[0-9a-f]{64}$/.test(args.id)) throw new UsageError(`${JSON.stringify(args.id)} is not a key file id (64 hex digits)`);
      const { repo, close } = await openRepository(ctx, args.site);
      try {
        await repo.removeKey(args.id);
      } finally {
        await close();
      }
      if (args.json) printJson(ctx, { removed: args.id });
      else print(ctx, `removed key file ${args.id}; its password no longer opens the repository at this site`);
    },
  };
}
