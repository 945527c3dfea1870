// `georep site add <name> <url> --region R --lat N --lon E --jurisdiction J ...`: register a partner
// site. Everything is checked before the site is touched; then the site is probed (unless
// --no-probe), and the site, what the probe found and an audit entry are stored in one transaction.
// A probe that cannot write stores nothing. The catalog holds the credentials reference, never keys.
import type { CommandModule } from 'yargs';
import type { CatalogDb } from '../../catalog/db.ts';
import { CatalogConflictError } from '../../catalog/errors.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { addSite, getSite, setCapabilities, type SiteRecord } from '../../catalog/queries/sites.ts';
import { UsageError } from '../../core/errors.ts';
import type { ProbeReport } from '../../sites/probe.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { SiteProbeFailedError, failedWrite } from '../site-registry.ts';
import { checkSiteSpec, type SiteSpecInput } from '../site-spec.ts';
import { capabilitySummary, siteJson } from '../site-view.ts';
import { probeSite } from '../wiring.ts';

/** The flags: the site's fields as site-spec.ts checks them, plus what the command itself takes. */
interface Args extends Omit<SiteSpecInput, 'storageClass'> {
  'storage-class'?: string;
  probe: boolean;
  timeout: number;
  json: boolean;
}

/** yargs makes an array of a flag given twice; which one was meant is not ours to guess. */
function once<T extends string | undefined>(value: T | T[], flag: string): T {
  if (Array.isArray(value)) throw new UsageError(`${flag} is given more than once`);
  return value;
}

function taken(name: string): UsageError {
  return new UsageError(`a site named '${name}' is already registered`, {
    hint: `choose another name, or remove it first: georep site remove ${name}`,
  });
}

export function siteAddCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'add <name> <url>',
    describe: 'register a partner site; probes it first unless --no-probe',
    builder: (y) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'a name for the site, like berlin-thw-1' })
        .positional('url', {
          type: 'string',
          demandOption: true,
          describe: 'file:///abs/path or s3://bucket[/prefix]?endpoint=http://host:port[&credentials=env:NAME|file:/path]',
        })
        .option('region', { type: 'string', demandOption: true, describe: 'where the site is, in words (eu-central, Bavaria)' })
        .option('lat', { type: 'string', demandOption: true, describe: 'latitude in decimal degrees, -90..90' })
        .option('lon', { type: 'string', demandOption: true, describe: 'longitude in decimal degrees, -180..180' })
        .option('jurisdiction', { type: 'string', demandOption: true, describe: 'ISO 3166-1 alpha-2 country code (DE, FR, US)' })
        .option('operator', { type: 'string', describe: 'who runs the site' })
        .option('quota', { type: 'string', describe: 'space the partner grants, like 2TiB' })
        .option('bandwidth', { type: 'string', describe: 'transfer limit, like 50MiB/s' })
        .option('storage-class', { type: 'string', describe: 's3: the storage class to write with' })
        .option('credentials', { type: 'string', describe: 's3: env:NAME or file:/path (or ?credentials= in the URL)' })
        .option('probe', { type: 'boolean', default: true, describe: 'probe the site first (--no-probe to skip)' })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds the probe waits for each answer' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (!(args.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
      const { spec, location } = checkSiteSpec({
        name: args.name,
        url: args.url,
        region: once(args.region, '--region'),
        lat: once(args.lat, '--lat'),
        lon: once(args.lon, '--lon'),
        jurisdiction: once(args.jurisdiction, '--jurisdiction'),
        operator: once(args.operator, '--operator'),
        quota: once(args.quota, '--quota'),
        bandwidth: once(args.bandwidth, '--bandwidth'),
        storageClass: once(args['storage-class'], '--storage-class'),
        credentials: once(args.credentials, '--credentials'),
      });
      await withCatalog(ctx, async (db) => {
        // Before the probe, which can take a while, rather than after it.
        if ((await getSite(db, spec.name)) !== null) throw taken(spec.name);
        let report: ProbeReport | undefined;
        if (args.probe) {
          report = await probeSite(location, ctx, args.timeout * 1000);
          const failed = failedWrite(report);
          if (failed !== undefined) {
            throw new SiteProbeFailedError(`site '${spec.name}' could not be written to, so it was not added: ${failed}`, {
              hint: 'fix the site or its credentials and add it again, or register it unchecked with --no-probe',
            });
          }
        }
        const record = await store(ctx, db, spec, report);
        if (args.json) {
          printJson(ctx, { site: siteJson(record), probe: report ?? null });
          return;
        }
        const ref = record.credentialsRef === null ? '' : ` (credentials ${record.credentialsRef})`;
        print(ctx, `added site ${record.name}: ${record.url}${ref}`);
        print(
          ctx,
          report === undefined
            ? `not probed: run georep site probe ${record.name}`
            : `capabilities: ${capabilitySummary(record.capabilities)}`,
        );
        const cleanup = report?.checks.find((c) => c.name === 'cleanup' && !c.ok);
        if (cleanup !== undefined) print(ctx, `warning: the probe could not remove its objects: ${cleanup.detail}`);
      });
    },
  };
}

async function store(
  ctx: CliContext,
  db: CatalogDb,
  spec: ReturnType<typeof checkSiteSpec>['spec'],
  report: ProbeReport | undefined,
): Promise<SiteRecord> {
  try {
    return await db.transaction(async (tx) => {
      await addSite(tx, spec);
      if (report !== undefined) await setCapabilities(tx, spec.name, { ...report.capabilities });
      const { name, ...details } = spec;
      await appendAudit(tx, {
        actor: auditActor(ctx),
        action: 'site.add',
        subject: name,
        details: { ...details, probed: report !== undefined, capabilities: report?.capabilities ?? null },
      });
      const stored = await getSite(tx, name);
      if (stored === null) throw new Error(`site '${name}' was not found right after it was added`);
      return stored;
    });
  } catch (err) {
    // Registered by someone else between our check and our insert (a shared PostgreSQL).
    if (err instanceof CatalogConflictError) throw taken(spec.name);
    throw err;
  }
}
