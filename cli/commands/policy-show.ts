// `georep policy show <name> [--version N]`: a contract version as it was applied (the document
// verbatim) and what it means once loaded (defaults filled in, units resolved).
import type { CommandModule } from 'yargs';
import { getContractVersion, latestContractVersion, listContractVersions } from '../../catalog/queries/contracts.ts';
import { UsageError } from '../../core/errors.ts';
import type { Contract } from '../../policies/contract.ts';
import { formatDuration } from '../../policies/units/duration.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, printJson, type CliContext } from '../context.ts';

interface Args {
  name: string;
  version?: number;
  json: boolean;
}

export function policyShowCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'show <name>',
    describe: 'show a contract as applied (latest, or --version N)',
    builder: (y) =>
      y
        // Our --version N, not yargs' global "print georep's version".
        .version(false)
        .positional('name', { type: 'string', demandOption: true, describe: 'the contract name' })
        .option('version', { type: 'number', describe: 'a version number (default: the latest)' })
        .option('json', { type: 'boolean', default: false }),
    handler: async (args) => {
      if (args.version !== undefined && (!Number.isInteger(args.version) || args.version < 1)) {
        throw new UsageError(`--version ${args.version} is not a version number (1, 2, ...)`);
      }
      const { found, versions } = await withCatalog(ctx, async (db) => ({
        found: args.version === undefined ? await latestContractVersion(db, args.name) : await getContractVersion(db, args.name, args.version),
        versions: await listContractVersions(db, args.name),
      }));
      if (found === null) {
        throw new UsageError(
          versions.length === 0 ? `no contract named '${args.name}'` : `contract '${args.name}' has no version ${args.version} (it has 1 to ${versions.length})`,
          { hint: 'georep policy list shows the applied contracts' },
        );
      }
      if (args.json) {
        printJson(ctx, { contract: found.contract, version: found.version, latest: versions.at(-1)?.version ?? found.version, appliedAt: found.appliedAt.toISOString(), document: found.document, parsed: found.parsed });
        return;
      }
      print(ctx, `${found.contract} version ${found.version} of ${versions.length}, applied ${found.appliedAt.toISOString()}`);
      print(ctx, '');
      print(ctx, found.document);
      const c = found.parsed as Contract | null;
      if (c === null) return;
      const r = c.retention;
      const keep = [
        r.keepWithinMs > 0 ? `within ${formatDuration(r.keepWithinMs)}` : '',
        ...(['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const).map((k) => (r[k] > 0 ? `${k} ${r[k]}` : '')),
      ].filter((s) => s !== '');
      const fields: [string, string][] = [
        ['tier', c.tier],
        ['schedule', `${c.schedule} (UTC)`],
        ['rpo', formatDuration(c.rpoMs)],
        ['rto', c.rtoMs === null ? '-' : formatDuration(c.rtoMs)],
        ['copies', `${c.copies} among ${c.placement.sites.join(', ')}`],
        ['placement', `at least ${c.placement.minRegions} region(s), ${c.placement.minDistanceKm} km apart, in ${c.placement.jurisdictions?.join(', ') ?? 'any jurisdiction'}`],
        ['retention', keep.join(', ')],
        ['immutability', c.immutability === null ? 'none' : `${c.immutability.mode}, ${c.immutability.days} days${c.immutability.allowSitesWithoutLock ? ', unlocked sites allowed' : ''}`],
        ['verify', `scrub ${c.verify.scrub}, deep sample ${c.verify.deepSamplePercent}%, drill ${c.verify.drill} on ${Array.isArray(c.verify.drillSites) ? c.verify.drillSites.join(', ') : c.verify.drillSites}${c.verify.checks === undefined ? '' : `, ${c.verify.checks.length} SQL check(s)`}`],
        ['bandwidth', c.bandwidthBytesPerSec === null ? 'sites\' own limits' : `${c.bandwidthBytesPerSec} bytes/s`],
      ];
      const width = Math.max(...fields.map(([k]) => k.length));
      print(ctx, 'as loaded:');
      print(ctx, fields.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n'));
    },
  };
}
