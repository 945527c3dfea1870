// Shipping under contracts: each snapshot `georep ship` catches up goes under the terms of the
// contract it was taken for (the one its staging record names, or the one protecting its
// dataset), so a site that keeps a contract's copies immutable gets the caught-up objects locked
// too, and the contract's bandwidth holds. Groups are shipped in priority order
// (policies/tiers.ts): critical before standard before bulk, tightest RPO first. Snapshots
// retention already forgot are set apart, never shipped.
import type { BucketRegistry } from '../sites/wrappers/bucket-registry.ts';
import type { CatalogDb } from '../catalog/db.ts';
import { listLatestContracts } from '../catalog/queries/contracts.ts';
import { snapshotFacts } from '../catalog/queries/snapshot-contracts.ts';
import type { SiteRecord } from '../catalog/queries/sites.ts';
import type { Clock } from '../core/clock.ts';
import type { Contract } from '../policies/contract.ts';
import { loadContract } from '../policies/load.ts';
import { orderByPriority } from '../policies/tiers.ts';
import { contractSiteOptions } from './contract-site-options.ts';
import type { ShipItem } from './ship-work.ts';
import type { OpenNamedSiteOptions } from './site-registry.ts';

export interface ShipGroup {
  /** null: snapshots taken without a contract (snapshot --to). */
  contract: Contract | null;
  items: ShipItem[];
  optionsFor: (record: SiteRecord) => OpenNamedSiteOptions;
}

export interface GroupedWork {
  groups: ShipGroup[];
  /** Staged or behind, but forgotten by retention: not shipped. */
  forgotten: ShipItem[];
}

/**
 * Splits one repository's items by contract, in priority order. `only` (ship --contract) keeps
 * that contract's group alone.
 */
export async function groupByContract(
  db: CatalogDb,
  clock: Clock,
  items: readonly ShipItem[],
  only?: string,
  /** The process's shared bandwidth buckets (the daemon), if any. */
  buckets?: BucketRegistry,
): Promise<GroupedWork> {
  const contracts = await currentContracts(db);
  const byDataset = new Map([...contracts.values()].map((c) => [c.dataset.name, c]));
  const facts = await snapshotFacts(db, items.map((i) => i.snapshot));
  const groups = new Map<string, ShipGroup>();
  const forgotten: ShipItem[] = [];
  for (const item of items) {
    const f = facts.get(item.snapshot);
    if (f?.forgotten === true) {
      forgotten.push(item);
      continue;
    }
    const named = item.pending?.contract;
    const contract = (named === undefined ? undefined : contracts.get(named)) ?? (f?.dataset ? byDataset.get(f.dataset) : undefined) ?? null;
    if (only !== undefined && contract?.contract !== only) continue;
    const key = contract?.contract ?? '';
    let group = groups.get(key);
    if (group === undefined) {
      group = { contract, items: [], optionsFor: contractSiteOptions(contract, clock, buckets) };
      groups.set(key, group);
    }
    group.items.push(item);
  }
  const ordered = orderByPriority(
    [...groups.values()].map((g) => ({
      group: g,
      tier: g.contract?.tier ?? 'standard',
      // Snapshots under no contract promise no RPO: last within their tier.
      rpoMs: g.contract?.rpoMs ?? Number.MAX_SAFE_INTEGER,
      name: g.contract?.contract ?? '',
    })),
  );
  return { groups: ordered.map((o) => o.group), forgotten };
}

/** The newest version of every contract, loaded; one that no longer loads is left out. */
async function currentContracts(db: CatalogDb): Promise<Map<string, Contract>> {
  const out = new Map<string, Contract>();
  for (const v of await listLatestContracts(db)) {
    const loaded = loadContract(v.document, `contract ${v.contract} version ${v.version}`);
    if ('contract' in loaded) out.set(v.contract, loaded.contract);
  }
  return out;
}
