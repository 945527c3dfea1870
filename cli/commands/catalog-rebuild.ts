// `georep catalog rebuild --from-site <name|url> [--from-site ...]`: records again, from the
// repository at each site, what the catalog indexes about it (replicator/rebuild/rebuild.ts):
// after the catalog was lost, or to check it against a site. Sites are the catalog's own: after a
// loss, register them again (georep site add) first, so that per-site states are recorded too.
// Exit 1 when a snapshot at a site is damaged (reported, and the rest recorded all the same).
import type { CommandModule } from 'yargs';
import { Repository } from '../../repository/repository.ts';
import { rebuildFromSite, type RebuildResult } from '../../replicator/rebuild/rebuild.ts';
import { auditActor } from '../actor.ts';
import { catalogLocation, withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { readPassword } from '../password.ts';
import { parseTargets } from '../ship-session.ts';
import { openResolvedSite, resolveSite } from '../site-registry.ts';

interface Args {
  'from-site': string[];
  json: boolean;
}

export function catalogRebuildCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'rebuild',
    describe: 'record a repository, its snapshots, packs and per-site states again from a site holding it',
    builder: (y) =>
      y
        .option('from-site', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'site name or URL holding the repository (a,b or repeated: each in turn)',
        })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const specs = parseTargets(args['from-site'], '--from-site');
      const results = await withCatalog(ctx, async (db) => {
        const out: RebuildResult[] = [];
        let password: string | undefined;
        for (const spec of specs) {
          const resolved = await resolveSite(ctx, db, spec);
          const site = await openResolvedSite(ctx, resolved);
          try {
            password ??= await readPassword(ctx, { purpose: 'repository password' });
            const repo = await Repository.open(site, password, { clock: ctx.clock });
            out.push(
              await rebuildFromSite({
                db,
                repo,
                site: resolved.name,
                ...(resolved.record === null ? {} : { registered: resolved.record.name }),
                actor: auditActor(ctx),
              }),
            );
          } finally {
            await site.close();
          }
        }
        return out;
      });
      if (results.some((r) => r.damaged.length > 0)) ctx.exitCode = EXIT_FAILURE;
      if (args.json) {
        printJson(ctx, { catalog: catalogLocation(ctx), sites: results });
        return;
      }
      for (const r of results) printResult(ctx, r);
    },
  };
}

function printResult(ctx: CliContext, r: RebuildResult): void {
  print(
    ctx,
    `rebuilt from site ${r.site} (repository ${r.repository.slice(0, 12)}): ${r.snapshots} snapshots, ` +
      `${r.committed} committed there; ${r.packs} packs, ${r.packsPresent} present there; ` +
      (r.changes === 0 ? 'the catalog knew it all already' : `${r.changes} catalog rows added or changed`),
  );
  if (!r.registered) {
    print(ctx, `  ${r.site} is not a registered site: per-site states were not recorded (georep site add, then rebuild again)`);
  }
  if (r.packsUnindexed > 0) print(ctx, `  ${r.packsUnindexed} packs at the site are in no index (left over from an interrupted snapshot?)`);
  for (const p of r.indexProblems) print(ctx, `  index ${p.id.slice(0, 12)} skipped: ${p.message}`);
  for (const d of r.damaged) print(ctx, `  damaged snapshot ${d.snapshot.slice(0, 12)}: ${d.problem}`);
}
