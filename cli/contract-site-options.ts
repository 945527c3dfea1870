// A contract's terms as site options, for every site one of its runs writes to:
// - immutability: at every registered site that has Object Lock (as probed), what georep writes
//   for a snapshot (packs, index objects, manifests) is written under the contract's retention.
//   Sites without it get plain writes: placement only lets them hold a copy when the contract
//   allows unlocked sites. Config and key files stay changeable.
// - bandwidth: one bucket shared by all the run's sites caps the contract's transfers in sum, on
//   top of each site's own registered limit; with a process's bucket registry (the daemon), one
//   bucket shared by all the runs of the contract in the process.
import type { SiteRecord } from '../catalog/queries/sites.ts';
import type { Clock } from '../core/clock.ts';
import type { Contract } from '../policies/contract.ts';
import { DATA_PREFIX, objectPrefix } from '../repository/layout.ts';
import type { RetentionRule } from '../sites/wrappers/retention.ts';
import type { BucketRegistry } from '../sites/wrappers/bucket-registry.ts';
import { TokenBucket } from '../sites/wrappers/token-bucket.ts';
import type { OpenNamedSiteOptions } from './site-registry.ts';

export const LOCKED_PREFIXES = [DATA_PREFIX, objectPrefix('index'), objectPrefix('snapshot')] as const;

export function retentionRule(contract: Contract | null): RetentionRule | undefined {
  const im = contract?.immutability ?? null;
  if (im === null) return undefined;
  return { mode: im.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', days: im.days, prefixes: LOCKED_PREFIXES };
}

/** How each site of one run under `contract` is opened; call once per run (the bucket is shared). */
export function contractSiteOptions(
  contract: Contract | null,
  clock: Clock,
  buckets?: BucketRegistry,
): (record: SiteRecord) => OpenNamedSiteOptions {
  const retention = retentionRule(contract);
  const rate = contract?.bandwidthBytesPerSec ?? null;
  const bucket =
    rate === null || contract === null
      ? undefined
      : (buckets?.bucket(`contract:${contract.contract}`, rate) ?? new TokenBucket(clock, { bytesPerSecond: rate }));
  return (record) => ({
    ...(retention !== undefined && record.capabilities?.objectLock === true ? { retention } : {}),
    ...(bucket === undefined ? {} : { alsoPacedBy: bucket }),
  });
}
