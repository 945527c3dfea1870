// `georep policy ...`: contracts (docs/CONTRACTS.md). Subcommands live in their own files.
import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.ts';
import { policyApplyCommand } from './policy-apply.ts';
import { policyListCommand } from './policy-list.ts';
import { policyPlanCommand } from './policy-plan.ts';
import { policyShowCommand } from './policy-show.ts';
import { policyValidateCommand } from './policy-validate.ts';

export function policyCommand(ctx: CliContext): CommandModule {
  return {
    command: 'policy <command>',
    describe: 'validate, plan, apply, list and show contracts',
    builder: (y) =>
      y
        .command(policyValidateCommand(ctx))
        .command(policyPlanCommand(ctx))
        .command(policyApplyCommand(ctx))
        .command(policyListCommand(ctx))
        .command(policyShowCommand(ctx))
        .demandCommand(1),
    handler: () => undefined,
  };
}
