// `georep prune [--apply]`: two-phase removal of unreferenced packs at the registered sites
// (replicator/prune/). Dry run by default. Exit 0 when every site was pruned (or would be), 1
// when a site refused (damaged repository) or every site failed, 3 when some sites failed.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { prune, DEFAULT_GRACE_MS } from '../../replicator/prune/prune.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { printJson, type CliContext } from '../context.ts';
import { parseDuration } from '../duration.ts';
import { EXIT_FAILURE, EXIT_PARTIAL } from '../exit-codes.ts';
import { readPassword } from '../password.ts';
import { openPruneSites, stagedPacks } from '../prune-sites.ts';
import { printPruneReport } from '../prune-report.ts';
import { parseTargets } from '../ship-session.ts';
import { parseSize } from '../size.ts';

interface Args {
  apply: boolean;
  site: string[] | undefined;
  grace: string | undefined;
  'max-delete-bytes': string | undefined;
  'max-packs': number | undefined;
  json: boolean;
}

export function pruneCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'prune',
    describe: 'mark packs no snapshot references, and delete those marked longer than the grace period',
    builder: (y) =>
      y
        .option('apply', { type: 'boolean', default: false, describe: 'do it (default: show what would be done)' })
        .option('site', { type: 'string', array: true, describe: 'only these registered sites a,b (default: all)' })
        .option('grace', { type: 'string', describe: 'how long a pack stays marked before it may go (default 24h, at least 1h)' })
        .option('max-delete-bytes', { type: 'string', describe: 'delete at most this many bytes in this run (e.g. 10GiB)' })
        .option('max-packs', { type: 'number', describe: 'delete at most this many packs in this run' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const graceMs = args.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(args.grace, '--grace');
      const maxBytes = args['max-delete-bytes'] === undefined ? undefined : parseSize(args['max-delete-bytes'], '--max-delete-bytes');
      const maxPacks = args['max-packs'];
      if (maxPacks !== undefined && (!Number.isSafeInteger(maxPacks) || maxPacks < 0)) {
        throw new UsageError(`--max-packs ${maxPacks} is not a whole number >= 0`);
      }
      const names = args.site === undefined ? undefined : parseTargets(args.site, '--site');
      await withCatalog(ctx, async (db) => {
        const password = await readPassword(ctx, { purpose: 'repository password' });
        const opened = await openPruneSites(ctx, db, names, password);
        try {
          const repositories = new Set(opened.inputs.flatMap((i) => (i.repo === undefined ? [] : [i.repo.config.id])));
          const report = await prune({
            db,
            sites: opened.inputs,
            apply: args.apply,
            graceMs,
            budget: { ...(maxBytes === undefined ? {} : { maxBytes }), ...(maxPacks === undefined ? {} : { maxPacks }) },
            staged: await stagedPacks(ctx, repositories),
            actor: auditActor(ctx),
            logger: ctx.logger,
            clock: ctx.clock,
          });
          const refused = report.sites.some((s) => s.problems.length > 0);
          if (report.failed.length > 0) ctx.exitCode = report.sites.length === 0 ? EXIT_FAILURE : EXIT_PARTIAL;
          if (refused) ctx.exitCode = EXIT_FAILURE;
          if (args.json) printJson(ctx, { ...report, empty: opened.empty });
          else printPruneReport(ctx, report, opened.empty);
        } finally {
          await opened.close();
        }
      });
    },
  };
}
