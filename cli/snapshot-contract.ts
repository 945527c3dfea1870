// `georep snapshot --contract <name>`: the contract says what (its dataset's source), where (the
// placement plan over the registered sites) and how strongly (Object Lock at the sites that
// have it, when the contract asks for immutability); snapshot-to.ts does the building and
// shipping. A contract whose placement cannot be met now is refused before anything is read.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.ts';
import { putDataset } from '../catalog/queries/datasets.ts';
import { listSites, type SiteRecord } from '../catalog/queries/sites.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import type { Contract } from '../policies/contract.ts';
import { planPlacement } from '../policies/placement.ts';
import { formatProblem } from '../policies/problem.ts';
import { checkAgainstSites } from '../policies/sites-check.ts';
import { withCatalog } from './catalog-session.ts';
import type { CliContext } from './context.ts';
import { contractSiteOptions } from './contract-site-options.ts';
import { requireContract } from './contract-session.ts';
import { knownSites } from './known-sites.ts';
import { directoryJob, postgresJob, s3Job, type SnapshotJob } from './snapshot-jobs.ts';
import { snapshotTo } from './snapshot-to.ts';

export interface SnapshotContractArgs {
  contract: string;
  /** The folder given on the command line, which must then be the contract's. */
  path: string | undefined;
  tags: string[];
  json: boolean;
}

export async function snapshotByContract(ctx: CliContext, args: SnapshotContractArgs): Promise<void> {
  const { contract, chosen } = await withCatalog(ctx, (db) => resolveContract(db, args.contract));
  const source = contract.dataset.source;
  if (source.type !== 'directory' && args.path !== undefined) {
    throw new UsageError(`contract '${contract.contract}' protects a ${source.type} source, not a folder`, {
      hint: 'leave the path out with --contract',
    });
  }
  if (source.type === 'directory' && args.path !== undefined && path.resolve(args.path) !== path.resolve(source.path)) {
    throw new UsageError(
      `contract '${contract.contract}' protects ${source.path}, not ${path.resolve(args.path)}`,
      { hint: 'leave the path out with --contract, or change the contract' },
    );
  }
  await snapshotTo(ctx, {
    job: await jobFor(ctx, contract),
    to: chosen.map((r) => r.name),
    tags: args.tags,
    json: args.json,
    contract: {
      name: contract.contract,
      dataset: contract.dataset.name,
      optionsFor: contractSiteOptions(contract, ctx.clock, ctx.buckets),
    },
  });
}

/** The contract's dataset source as a snapshot job. */
async function jobFor(ctx: CliContext, contract: Contract): Promise<SnapshotJob> {
  const source = contract.dataset.source;
  switch (source.type) {
    case 'directory':
      return directoryJob(ctx, path.resolve(source.path));
    case 'postgres':
      return postgresJob(ctx, source.url, source.databases ?? []);
    case 's3':
      return s3Job(ctx, contractBucketUrl(source));
  }
}

/** The contract's bucket as the s3:// URL --s3-source takes (credentials stay a reference). */
export function contractBucketUrl(source: { bucket: string; prefix: string; endpoint: string | null; region: string | null; credentials: string | null }): string {
  const params = new URLSearchParams();
  if (source.endpoint !== null) params.set('endpoint', source.endpoint);
  if (source.region !== null) params.set('region', source.region);
  if (source.credentials !== null) params.set('credentials', source.credentials);
  const query = params.toString();
  return `s3://${source.bucket}/${source.prefix}${query === '' ? '' : `?${query}`}`;
}

async function resolveContract(db: CatalogDb, name: string): Promise<{ contract: Contract; chosen: SiteRecord[] }> {
  const { contract } = await requireContract(db, name);
  const [sites, records] = await Promise.all([knownSites(db), listSites(db)]);
  const problems = checkAgainstSites(contract, sites);
  if (problems.length > 0) {
    throw new ConfigError(`contract '${name}' does not fit the registered sites:\n${problems.map(formatProblem).join('\n')}`);
  }
  const plan = planPlacement(contract, sites);
  if (!plan.ok) {
    throw new ConfigError(
      `contract '${name}': no placement meets it now:\n${plan.failures.map((f) => `  ${f.message}`).join('\n')}`,
      { hint: `georep policy plan shows each site's reasons` },
    );
  }
  const byName = new Map(records.map((r) => [r.name, r]));
  const chosen = plan.chosen.map((d) => byName.get(d.site)).filter((r): r is SiteRecord => r !== undefined);
  await putDataset(db, contract.dataset.name, { ...contract.dataset.source });
  return { contract, chosen };
}
