// `georep key add --site <url>`: add a password. The current one comes from GEOREP_PASSWORD*, the
// new one from GEOREP_NEW_PASSWORD* or a prompt.
import type { CommandModule } from 'yargs';
import { print, printJson, type CliContext } from '../context.ts';
import { kdfFromArgs, withKdfOptions, type KdfArgs } from '../kdf-options.ts';
import { keyMeta } from '../key-meta.ts';
import { openRepository } from '../session.ts';
import { readPassword } from '../password.ts';

interface Args extends KdfArgs {
  site: string;
  json: boolean;
}

export function keyAddCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'add',
    describe: 'add a password (a new key file wrapping the same key)',
    builder: (y) =>
      withKdfOptions(
        y
          .option('site', { type: 'string', demandOption: true, describe: 'the site holding the repository' })
          .option('json', { type: 'boolean', default: false }),
      ),
    handler: async (args) => {
      const kdf = kdfFromArgs(args);
      const { repo, close } = await openRepository(ctx, args.site);
      try {
        const newPassword = await readPassword(ctx, { which: 'new', confirm: true, purpose: 'new password' });
        const id = await repo.addKey(newPassword, kdf, keyMeta(ctx));
        if (args.json) printJson(ctx, { keyId: id, repository: repo.config.id });
        else print(ctx, `added key file ${id}`);
      } finally {
        await close();
      }
    },
  };
}
