// A contract's immutability as site options: at every registered site that has Object Lock (as
// probed), what georep writes for a snapshot (packs, index objects, manifests) is written under
// the contract's retention. Sites without it get plain writes: placement only lets them hold a
// copy when the contract allows unlocked sites. Config and key files stay changeable.
import type { SiteRecord } from '../catalog/queries/sites.ts';
import type { Contract } from '../policies/contract.ts';
import { DATA_PREFIX, objectPrefix } from '../repository/layout.ts';
import type { RetentionRule } from '../sites/wrappers/retention.ts';
import type { OpenNamedSiteOptions } from './site-registry.ts';

export const LOCKED_PREFIXES = [DATA_PREFIX, objectPrefix('index'), objectPrefix('snapshot')] as const;

export function retentionRule(contract: Contract | null): RetentionRule | undefined {
  const im = contract?.immutability ?? null;
  if (im === null) return undefined;
  return { mode: im.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', days: im.days, prefixes: LOCKED_PREFIXES };
}

export function lockedWritesFor(contract: Contract | null): (record: SiteRecord) => OpenNamedSiteOptions {
  const retention = retentionRule(contract);
  return (record) => (retention !== undefined && record.capabilities?.objectLock === true ? { retention } : {});
}
