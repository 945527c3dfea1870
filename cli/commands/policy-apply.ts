// `georep policy apply <files...>`: validates every file against the registered sites first (all
// or nothing: one problem anywhere and nothing is stored, exit 2), then stores each as a new
// version of its contract: the file's text verbatim and the loaded contract as JSON. The same text
// as the latest version stores nothing. Each new version is recorded in the audit log.
import { createHash } from 'node:crypto';
import type { CommandModule } from 'yargs';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { applyContract, latestContractVersion } from '../../catalog/queries/contracts.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_USAGE } from '../exit-codes.ts';
import { knownSites } from '../known-sites.ts';
import { checkFiles, printContractProblems } from '../policy-files.ts';

interface Args {
  files: string[];
  json: boolean;
}

interface Applied {
  contract: string;
  file: string;
  version: number;
  previous: number | null;
  created: boolean;
}

export function policyApplyCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'apply <files...>',
    describe: 'validate contract files, then store each as a new contract version',
    builder: (y) =>
      y.positional('files', { type: 'string', array: true, demandOption: true, describe: 'contract YAML files' }).option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const actor = auditActor(ctx);
      const outcome = await withCatalog(ctx, async (db) => {
        const checked = await checkFiles(args.files, await knownSites(db));
        if (checked.some((c) => c.problems.length > 0)) return { checked, applied: [] as Applied[] };
        const applied: Applied[] = [];
        for (const c of checked) {
          if (c.contract === null) continue;
          const name = c.contract.contract;
          const before = await latestContractVersion(db, name);
          const { version, created } = await applyContract(db, name, c.text, c.contract);
          if (created) {
            await appendAudit(db, {
              actor,
              action: 'contract.apply',
              subject: name,
              details: { version: version.version, previous: before?.version ?? null, file: c.file, sha256: createHash('sha256').update(c.text).digest('hex') },
            });
          }
          applied.push({ contract: name, file: c.file, version: version.version, previous: before?.version ?? null, created });
        }
        return { checked, applied };
      });
      const failed = outcome.checked.some((c) => c.problems.length > 0);
      if (failed) ctx.exitCode = EXIT_USAGE;
      if (args.json) {
        printJson(ctx, { ok: !failed, applied: outcome.applied, problems: outcome.checked.flatMap((c) => c.problems) });
        return;
      }
      if (failed) {
        printContractProblems(ctx, outcome.checked);
        ctx.stderr.write('nothing applied: fix every problem above, then apply again\n');
        return;
      }
      for (const a of outcome.applied) {
        if (!a.created) print(ctx, `${a.contract}: unchanged at version ${a.version}`);
        else print(ctx, `${a.contract}: version ${a.version} (${a.previous === null ? 'new' : `was ${a.previous}`})`);
      }
    },
  };
}
