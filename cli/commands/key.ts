// `georep key ...`: the key files of a repository, one per password. Subcommands in their own files.
import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.ts';
import { keyAddCommand } from './key-add.ts';
import { keyListCommand } from './key-list.ts';
import { keyRemoveCommand } from './key-remove.ts';

export function keyCommand(ctx: CliContext): CommandModule {
  return {
    command: 'key <command>',
    describe: 'manage the passwords (key files) of a repository',
    builder: (y) => y.command(keyAddCommand(ctx)).command(keyListCommand(ctx)).command(keyRemoveCommand(ctx)).demandCommand(1),
    handler: () => undefined,
  };
}
