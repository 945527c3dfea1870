// `georep catalog ...`: the catalog itself. Subcommands live in their own files.
import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.ts';
import { catalogRebuildCommand } from './catalog-rebuild.ts';

export function catalogCommand(ctx: CliContext): CommandModule {
  return {
    command: 'catalog <command>',
    describe: 'the catalog: rebuild its index of a repository from a site',
    builder: (y) => y.command(catalogRebuildCommand(ctx)).demandCommand(1),
    handler: () => undefined,
  };
}
