// `georep site ...`: the partner-site registry. Subcommands live in their own files.
import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.ts';
import { siteAddCommand } from './site-add.ts';
import { siteListCommand } from './site-list.ts';
import { siteProbeCommand } from './site-probe.ts';
import { siteRemoveCommand } from './site-remove.ts';
import { siteShowCommand } from './site-show.ts';

export function siteCommand(ctx: CliContext): CommandModule {
  return {
    command: 'site <command>',
    describe: 'register, list, show, remove and probe partner sites',
    builder: (y) =>
      y
        .command(siteAddCommand(ctx))
        .command(siteListCommand(ctx))
        .command(siteShowCommand(ctx))
        .command(siteRemoveCommand(ctx))
        .command(siteProbeCommand(ctx))
        .demandCommand(1),
    handler: () => undefined,
  };
}
