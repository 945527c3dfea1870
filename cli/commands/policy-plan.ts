// `georep policy plan <files...>`: which registered sites get each contract's copies, and why each
// listed site was chosen, left spare or rejected. Exit 2 when a file has problems or a placement
// cannot be met (then the reasons are printed instead of a choice).
import type { CommandModule } from 'yargs';
import { planPlacement } from '../../policies/placement.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_USAGE } from '../exit-codes.ts';
import { knownSites } from '../known-sites.ts';
import { checkFiles, printContractProblems } from '../policy-files.ts';

interface Args {
  files: string[];
  json: boolean;
}

export function policyPlanCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'plan <files...>',
    describe: 'show which sites would hold each contract\'s copies, and why',
    builder: (y) =>
      y.positional('files', { type: 'string', array: true, demandOption: true, describe: 'contract YAML files' }).option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const sites = await withCatalog(ctx, (db) => knownSites(db));
      // Loaded alone: placement problems are what the plan explains, not a reason to stop.
      const checked = await checkFiles(args.files, undefined);
      const plans = checked.flatMap((c) => (c.contract === null ? [] : [{ file: c.file, plan: planPlacement(c.contract, sites) }]));
      if (checked.some((c) => c.problems.length > 0) || plans.some((p) => !p.plan.ok)) ctx.exitCode = EXIT_USAGE;
      if (args.json) {
        printJson(ctx, { plans, problems: checked.flatMap((c) => c.problems) });
        return;
      }
      printContractProblems(ctx, checked);
      for (const { file, plan } of plans) {
        print(ctx, `${plan.contract} (${file}): ${plan.copies} ${plan.copies === 1 ? 'copy' : 'copies'}${plan.ok ? '' : ', cannot be placed'}`);
        for (const d of plan.chosen) print(ctx, `  chosen    ${d.site}: ${d.reasons.join('; ')}`);
        for (const d of plan.spare) print(ctx, `  spare     ${d.site}: ${d.reasons.join('; ')}`);
        for (const d of plan.rejected) print(ctx, `  rejected  ${d.site}: ${d.reasons.join('; ')}`);
        for (const f of plan.failures) print(ctx, `  cannot place (${f.path.join('.')}): ${f.message}`);
      }
    },
  };
}
