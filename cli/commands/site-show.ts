// `georep site show <name>`: everything the catalog knows about one site: what was registered, what
// the last probe found, the repositories it holds, and its history in the audit log.
import type { CommandModule } from 'yargs';
import { listAudit } from '../../catalog/queries/audit.ts';
import { listSiteRepositories } from '../../catalog/queries/repositories.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { jurisdictionName } from '../jurisdiction.ts';
import { requireSite } from '../site-registry.ts';
import { parseSiteName } from '../site-spec.ts';
import { latLon, orderedCapabilities, probedAge, siteJson } from '../site-view.ts';
import { formatRate, formatSize } from '../size.ts';
import { formatTable } from '../table.ts';

interface Args {
  name: string;
  json: boolean;
}

export function siteShowCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'show <name>',
    describe: 'show everything known about one registered site',
    builder: (y) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'the registered site name' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      const name = parseSiteName(args.name);
      const { record, repositories, history } = await withCatalog(ctx, async (db) => {
        const site = await requireSite(db, name);
        // The audit log is about the name: a site removed and added again shows both lives.
        const entries = (await listAudit(db, { subject: name })).filter((e) => e.action.startsWith('site.'));
        return { record: site, repositories: await listSiteRepositories(db, name), history: entries };
      });
      const country = record.jurisdiction === null ? undefined : jurisdictionName(record.jurisdiction);
      if (args.json) {
        printJson(ctx, {
          site: siteJson(record),
          jurisdictionName: country ?? null,
          repositories: repositories.map((r) => ({ id: r.repository, since: r.since.toISOString() })),
          history: history.map((e) => ({ at: e.at.toISOString(), actor: e.actor, action: e.action, details: e.details })),
        });
        return;
      }
      const caps = record.capabilities;
      const fields: [string, string][] = [
        ['name', record.name],
        ['url', record.url],
        ['credentials', record.credentialsRef ?? (record.url.startsWith('s3:') ? 'AWS default chain' : '-')],
        ['operator', record.operator ?? '-'],
        ['region', record.region ?? '-'],
        ['jurisdiction', record.jurisdiction === null ? '-' : `${record.jurisdiction}${country ? ` (${country})` : ''}`],
        ['location', latLon(record) || '-'],
        ['quota', record.quotaBytes === null ? '-' : formatSize(record.quotaBytes)],
        ['bandwidth', record.bandwidthBytesPerSec === null ? '-' : formatRate(record.bandwidthBytesPerSec)],
        ['storage class', record.storageClass ?? '-'],
        ['added', record.createdAt.toISOString()],
        ['probed', record.probedAt === null ? 'never' : `${record.probedAt.toISOString()} (${probedAge(record, ctx.clock.nowMs())})`],
      ];
      const width = Math.max(...fields.map(([k]) => k.length));
      print(ctx, fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
      print(ctx, '');
      print(
        ctx,
        caps === null
          ? `capabilities: not probed; run georep site probe ${record.name}`
          : formatTable(['capability', 'has'], orderedCapabilities(caps).map(([k, v]) => [k, v ? 'yes' : 'no'])),
      );
      print(ctx, '');
      print(
        ctx,
        repositories.length === 0
          ? 'repositories: none yet'
          : formatTable(['repository', 'since'], repositories.map((r) => [r.repository, r.since.toISOString()])),
      );
      print(ctx, '');
      print(ctx, formatTable(['at', 'actor', 'action'], history.map((e) => [e.at.toISOString(), e.actor, e.action])));
    },
  };
}
