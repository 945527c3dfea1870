// `georep site probe <name|url>`: measure what a live endpoint can do, print a table or JSON. A
// URL is probed as given, without the catalog. A registered name is probed with its credentials
// reference, and what the probe found replaces the stored capabilities (when it could write).
import type { CommandModule } from 'yargs';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { setCapabilities } from '../../catalog/queries/sites.ts';
import { UsageError } from '../../core/errors.ts';
import type { ProbeReport } from '../../sites/probe.ts';
import { parseSiteUrl } from '../../sites/url.ts';
import { auditActor } from '../actor.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { checkNameOrUrl, failedWrite, looksLikeUrl, requireSite, siteLocationOf } from '../site-registry.ts';
import { formatTable } from '../table.ts';
import { probeSite } from '../wiring.ts';

interface Args {
  site: string;
  json: boolean;
  timeout: number;
}

export function siteProbeCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'probe <site>',
    describe: 'measure what a site can do: create-only puts, Object Lock, checksums, multipart, ranged reads, list-after-write, clock skew',
    builder: (y) =>
      y
        .positional('site', {
          type: 'string',
          demandOption: true,
          describe:
            'a registered site name (its stored capabilities are updated), or a URL: file:///abs/path or ' +
            's3://bucket[/prefix]?endpoint=http://host:port&credentials=env:NAME|file:/path',
        })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for each answer' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (!(args.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
      const timeoutMs = args.timeout * 1000;
      if (looksLikeUrl(args.site)) {
        const report = await probeSite(parseSiteUrl(args.site), ctx, timeoutMs);
        show(ctx, report, args.json);
        return;
      }
      checkNameOrUrl(args.site);
      await withCatalog(ctx, async (db) => {
        const record = await requireSite(db, args.site);
        const report = await probeSite(siteLocationOf(record), ctx, timeoutMs);
        // A site that took no write tells nothing about what it can do: keep what was stored.
        const stored = failedWrite(report) === undefined;
        if (stored) {
          await db.transaction(async (tx) => {
            await setCapabilities(tx, record.name, { ...report.capabilities });
            await appendAudit(tx, {
              actor: auditActor(ctx),
              action: 'site.probe',
              subject: record.name,
              details: { capabilities: report.capabilities, previous: record.capabilities },
            });
          });
        }
        show(ctx, report, args.json, { name: record.name, stored });
      });
    },
  };
}

function show(ctx: CliContext, report: ProbeReport, json: boolean, registered?: { name: string; stored: boolean }): void {
  // The site answered but some check could not run (no access, no bucket...): that is a finding.
  const failedToRun = report.checks.some((c) => (c.name === 'writable' || c.name === 'cleanup') && !c.ok);
  if (failedToRun) ctx.exitCode = EXIT_FAILURE;
  if (json) {
    printJson(ctx, registered === undefined ? report : { site: registered.name, stored: registered.stored, ...report });
    return;
  }
  print(ctx, registered === undefined ? `site ${report.url}` : `site ${registered.name}: ${report.url}`);
  print(
    ctx,
    formatTable(
      ['check', 'result', 'detail'],
      report.checks.map((c) => [c.name, c.ok ? 'yes' : 'no', c.detail]),
    ),
  );
  const caps = Object.entries(report.capabilities);
  print(ctx, `capabilities: ${caps.filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'}`);
  const lacking = caps.filter(([, v]) => !v).map(([k]) => k);
  if (lacking.length > 0) print(ctx, `lacking: ${lacking.join(', ')}`);
  const facts = [
    report.latencyMs === undefined ? undefined : `latency ${report.latencyMs.toFixed(0)} ms`,
    report.clockSkewMs === undefined ? undefined : `clock skew ${(report.clockSkewMs / 1000).toFixed(1)} s`,
  ].filter((f) => f !== undefined);
  if (facts.length > 0) print(ctx, facts.join(', '));
  if (registered !== undefined) {
    print(
      ctx,
      registered.stored
        ? `stored in the catalog as site ${registered.name}'s capabilities`
        : `not stored: the probe could not write, so site ${registered.name} keeps its previous capabilities`,
    );
  }
}
