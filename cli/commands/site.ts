// `georep site ...`: the partner-site registry. Subcommands live in their own files.
import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.ts';
import { siteProbeCommand } from './site-probe.ts';

export function siteCommand(ctx: CliContext): CommandModule {
  return {
    command: 'site <command>',
    describe: 'manage and check partner sites',
    builder: (y) => y.command(siteProbeCommand(ctx)).demandCommand(1),
    handler: () => undefined,
  };
}
