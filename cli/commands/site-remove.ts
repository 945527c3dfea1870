// `georep site remove <name>`: take a site out of the registry. Only marked removed: the snapshots,
// packs and runs that name it keep their history, and the name may be registered again. Nothing
// at the site itself is touched.
import type { CommandModule } from 'yargs';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { removeSite } from '../../catalog/queries/sites.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { requireSite } from '../site-registry.ts';
import { parseSiteName } from '../site-spec.ts';

interface Args {
  name: string;
  json: boolean;
}

export function siteRemoveCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'remove <name>',
    describe: 'remove a site from the registry (its history stays; the data at the site is not touched)',
    builder: (y) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'the registered site name' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const name = parseSiteName(args.name);
      const record = await withCatalog(ctx, (db) =>
        db.transaction(async (tx) => {
          const site = await requireSite(tx, name);
          // Gone between the look and the update (another operator on a shared PostgreSQL): say so alike.
          if (!(await removeSite(tx, name))) await requireSite(tx, name);
          await appendAudit(tx, { actor: auditActor(ctx), action: 'site.remove', subject: name, details: { url: site.url } });
          return site;
        }),
      );
      if (args.json) {
        printJson(ctx, { removed: record.name, url: record.url });
        return;
      }
      print(ctx, `removed site ${record.name} (${record.url}); its history stays in the catalog, and nothing at the site was touched`);
    },
  };
}
