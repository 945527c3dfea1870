// `georep site probe <url>`: measure what a live endpoint can do, print a table or JSON.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { parseSiteUrl } from '../../sites/url.ts';
import { print, printJson, type CliContext } from '../context.ts';
import { EXIT_FAILURE } from '../exit-codes.ts';
import { formatTable } from '../table.ts';
import { probeSite } from '../wiring.ts';

interface Args {
  url: string;
  json: boolean;
  timeout: number;
}

export function siteProbeCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'probe <url>',
    describe: 'measure what a site can do: create-only puts, Object Lock, checksums, multipart, ranged reads, list-after-write, clock skew',
    builder: (y) =>
      y
        .positional('url', {
          type: 'string',
          demandOption: true,
          describe: 'file:///abs/path or s3://bucket[/prefix]?endpoint=http://host:port&credentials=env:NAME|file:/path',
        })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for each answer' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (!(args.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
      const report = await probeSite(parseSiteUrl(args.url), ctx, args.timeout * 1000);
      // The site answered but some check could not run (no access, no bucket...): that is a finding.
      const failedToRun = report.checks.some((c) => (c.name === 'writable' || c.name === 'cleanup') && !c.ok);
      if (failedToRun) ctx.exitCode = EXIT_FAILURE;
      if (args.json) {
        printJson(ctx, report);
        return;
      }
      print(ctx, `site ${report.url}`);
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
    },
  };
}
