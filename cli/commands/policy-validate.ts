// `georep policy validate <files...>`: every problem of every file, one line each on stderr
// (file:line:column: field: message), exit 2 when there is any. Against the registered sites by
// default (unknown sites, impossible placement); --no-sites checks the files alone.
import type { CommandModule } from 'yargs';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_USAGE } from '../exit-codes.ts';
import { knownSites } from '../known-sites.ts';
import { checkFiles, printContractProblems } from '../policy-files.ts';

interface Args {
  files: string[];
  sites: boolean;
  json: boolean;
}

export function policyValidateCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'validate <files...>',
    describe: 'check contract files; exit 2 on any problem',
    builder: (y) =>
      y
        .positional('files', { type: 'string', array: true, demandOption: true, describe: 'contract YAML files' })
        .option('sites', { type: 'boolean', default: true, describe: 'check against the registered sites (--no-sites: the files alone)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const sites = args.sites ? await withCatalog(ctx, (db) => knownSites(db)) : undefined;
      const checked = await checkFiles(args.files, sites);
      const bad = checked.some((c) => c.problems.length > 0);
      if (bad) ctx.exitCode = EXIT_USAGE;
      if (args.json) {
        printJson(ctx, { ok: !bad, sitesChecked: args.sites, files: checked.map((c) => ({ file: c.file, contract: c.contract?.contract ?? null, problems: c.problems })) });
        return;
      }
      printContractProblems(ctx, checked);
      for (const c of checked) {
        if (c.problems.length === 0 && c.contract !== null) print(ctx, `${c.file}: ${c.contract.contract} is valid${args.sites ? '' : ' (sites not checked)'}`);
      }
    },
  };
}
