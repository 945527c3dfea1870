// `georep ship [--to a,b,c]`: catch up. Every snapshot waiting in local staging (not committed yet
// at some target) is shipped again to its targets (the ones it was taken for, or --to), which
// upload only what each site lacks. A snapshot committed everywhere leaves staging.
import type { CommandModule } from 'yargs';
import { shipSnapshot, type ShipResult, type SiteOutcome } from '../../replicator/ship/ship.ts';
import { listPending, releaseStaged } from '../../replicator/ship/staging.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { readPassword } from '../password.ts';
import { printShipResult, shipExitCode } from '../ship-report.ts';
import { attachTargets, closeAll, openStaging, openStagingSite, openTargets, parseTargets } from '../ship-session.ts';
import { stagedRepositories } from '../staged.ts';
import { withRun } from '../run-record.ts';
import { packsMarkedAt } from '../../catalog/queries/prune-marks.ts';
import { markedLast, withIndex } from '../../replicator/prune/dedup-marks.ts';
import { loadShipIndex } from '../../replicator/ship/ship-index.ts';

interface Args {
  to: string[] | undefined;
  json: boolean;
}

export function shipCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'ship',
    describe: 'ship the snapshots waiting in local staging to the sites that do not have them yet',
    builder: (y) =>
      y
        .option('to', { type: 'string', array: true, describe: 'only these sites a,b,c (names or URLs)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const only = args.to === undefined ? undefined : parseTargets(args.to);
      const results: (ShipResult & { repository: string; released: boolean })[] = [];
      // Recorded as a run before any index is read (prune's rule, cli/run-record.ts).
      await withCatalog(ctx, (db) => withRun(ctx, db, 'ship', async () => {
        const repositories = await stagedRepositories(ctx.env);
        let password: string | undefined;
        for (const repository of repositories) {
          const site = await openStagingSite(ctx, repository);
          const pending = await listPending(site).catch(async (err: unknown) => {
            await site.close();
            throw err;
          });
          if (pending.length === 0) {
            await site.close();
            continue;
          }
          password ??= await readPassword(ctx, { purpose: 'repository password' });
          const specs = only ?? [...new Set(pending.flatMap((p) => p.targets))];
          const targets = await openTargets(ctx, db, specs).catch(async (err: unknown) => {
            await site.close();
            throw err;
          });
          try {
            const staging = await openStaging(ctx, site, targets, password);
            try {
              await attachTargets(ctx, staging.repo, targets, password);
              for (const p of pending) {
                const wanted = only ?? p.targets;
                const chosen = targets.filter((t) => wanted.includes(t.spec));
                // Blobs a pack marked by prune shares with another pack are found in the other one.
                const marked = await packsMarkedAt(db, chosen.flatMap((t) => (t.registered === undefined ? [] : [t.registered])));
                const live = chosen.filter((t) => t.skip === undefined).map((t) => t.site);
                const loaded = await loadShipIndex(staging.repo, site, live, ctx.logger);
                const result = await shipSnapshot({
                  snapshotId: p.snapshot,
                  staging: staging.repo,
                  stagingSite: site,
                  targets: chosen,
                  catalog: { db, actor: auditActor(ctx) },
                  clock: ctx.clock,
                  logger: ctx.logger,
                  index: withIndex(loaded, markedLast(loaded.index, marked)),
                });
                const everywhere =
                  result.outcomes.every((o) => o.state === 'committed') && p.targets.every((t) => wanted.includes(t));
                const released = everywhere ? await releaseStaged(site, p.snapshot) : false;
                results.push({ ...result, repository, released });
              }
            } finally {
              await staging.close();
            }
          } finally {
            await closeAll(targets);
          }
        }
      }));
      const outcomes: SiteOutcome[] = results.flatMap((r) => r.outcomes);
      ctx.exitCode = outcomes.length === 0 ? 0 : shipExitCode(outcomes);
      if (args.json) {
        printJson(ctx, { snapshots: results });
        return;
      }
      if (results.length === 0) {
        print(ctx, 'nothing waits in staging: every site has every snapshot');
        return;
      }
      for (const r of results) {
        print(ctx, `snapshot ${r.snapshot.slice(0, 12)} (repository ${r.repository.slice(0, 12)}):`);
        printShipResult(ctx, r);
      }
    },
  };
}
