// `georep site list`: the registered partner sites, one line each.
import type { CommandModule } from 'yargs';
import { listSites } from '../../catalog/queries/sites.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { capabilitySummary, latLon, probedAge, siteJson } from '../site-view.ts';
import { formatTable } from '../table.ts';

interface Args {
  json: boolean;
}

export function siteListCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'list',
    describe: 'list the registered partner sites',
    builder: (y) => y.option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const sites = await withCatalog(ctx, (db) => listSites(db));
      if (args.json) {
        printJson(ctx, sites.map(siteJson));
        return;
      }
      if (sites.length === 0) {
        print(ctx, 'no sites registered; georep site add registers one');
        return;
      }
      const now = ctx.clock.nowMs();
      print(
        ctx,
        formatTable(
          ['name', 'region', 'jurisdiction', 'lat, lon', 'url', 'capabilities', 'probed'],
          sites.map((s) => [
            s.name,
            s.region ?? '',
            s.jurisdiction ?? '',
            latLon(s),
            s.url,
            capabilitySummary(s.capabilities),
            probedAge(s, now),
          ]),
        ),
      );
    },
  };
}
