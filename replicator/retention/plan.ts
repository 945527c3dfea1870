// Which snapshots of a contract's dataset a forget drops: the contract's retention rules applied
// (policies/retention.ts, restic's semantics) to the catalog's commit times. Pure apart from
// reading the catalog; nothing is changed here.
import type { CatalogDb } from '../../catalog/db.ts';
import { datasetSnapshots, type RetentionSnapshot } from '../../catalog/queries/retention.ts';
import type { Contract } from '../../policies/contract.ts';
import { applyRetention } from '../../policies/retention.ts';
import type { Hex64 } from '../../repository/types.ts';

export interface PlannedSnapshot {
  id: Hex64;
  committedAt: Date;
  /** Why it is kept, or why it goes. */
  reasons: string[];
  /** Registered sites that still hold a record of it (not yet 'forgotten' there). */
  sites: string[];
}

export interface ForgetPlan {
  contract: string;
  dataset: string;
  /** Newest first. */
  keep: PlannedSnapshot[];
  /** Newest first: what this forget decides to drop. */
  forget: PlannedSnapshot[];
  /** Dropped by an earlier forget, but some site still holds the manifest (locked, unreachable). */
  unfinished: (PlannedSnapshot & { forgottenAt: Date })[];
}

export async function planForget(db: CatalogDb, contract: Contract, now: Date): Promise<ForgetPlan> {
  const all = await datasetSnapshots(db, contract.dataset.name);
  const live = all.filter((s) => s.forgottenAt === null);
  const decision = applyRetention(
    contract.retention,
    live.map((s) => ({ id: s.id, time: s.committedAt, record: s })),
    now,
  );
  const planned = (d: { snapshot: { record: RetentionSnapshot }; reasons: string[] }): PlannedSnapshot => ({
    id: d.snapshot.record.id,
    committedAt: d.snapshot.record.committedAt,
    reasons: d.reasons,
    sites: sitesHolding(d.snapshot.record),
  });
  return {
    contract: contract.contract,
    dataset: contract.dataset.name,
    keep: decision.keep.map(planned),
    forget: decision.forget.map(planned),
    unfinished: all
      .filter((s) => s.forgottenAt !== null && sitesHolding(s).length > 0)
      .map((s) => ({
        id: s.id,
        committedAt: s.committedAt,
        reasons: ['forgotten earlier; the manifest is still at some sites'],
        sites: sitesHolding(s),
        forgottenAt: s.forgottenAt ?? s.committedAt,
      })),
  };
}

function sitesHolding(s: RetentionSnapshot): string[] {
  return s.sites.filter((x) => x.state !== 'forgotten').map((x) => x.site);
}
