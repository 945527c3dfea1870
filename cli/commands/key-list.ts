// `georep key list --site <url>`: the key files of a repository, with who made them and when.
import type { CommandModule } from 'yargs';
import { print, printJson, type CliContext } from '../context.ts';
import { openRepository } from '../session.ts';
import { formatSize } from '../size.ts';
import { formatTable } from '../table.ts';

interface Args {
  site: string;
  json: boolean;
}

export function keyListCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'list',
    describe: 'list the key files; * marks the one the password opened',
    builder: (y) =>
      y
        .option('site', { type: 'string', demandOption: true, describe: 'the site holding the repository' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const { repo, close } = await openRepository(ctx, args.site);
      try {
        const keys = await repo.listKeys();
        if (args.json) {
          printJson(ctx, keys);
          return;
        }
        const rows = keys.map((k) =>
          'problem' in k
            ? [' ', k.id, '', '', '', `DAMAGED: ${k.problem}`]
            : [
                k.current ? '*' : ' ',
                k.id,
                k.created,
                k.host,
                k.user,
                `argon2id ${formatSize(k.kdf.memoryKiB * 1024)}, ${k.kdf.iterations} passes, ${k.kdf.parallelism} lane(s)`,
              ],
        );
        print(ctx, formatTable(['', 'id', 'created', 'host', 'user', 'kdf'], rows));
      } finally {
        await close();
      }
    },
  };
}
