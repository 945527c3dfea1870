// The local staging repository: $GEOREP_HOME/staging/<repositoryId>/, a full repository (config and
// keys copied in by attach) where a snapshot's packs, index and manifest are built once, durably,
// before they are shipped. Each snapshot not yet committed at all of its targets has a pending
// record `pending/<snapshotId>` (JSON: the targets as the operator named them). What leaves staging
// when a snapshot is committed everywhere is release.ts's job.
import path from 'node:path';
import { isHex64 } from '../../repository/crypto/hash.ts';
import { DATA_PREFIX } from '../../repository/layout.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { Site } from '../../sites/site.ts';

export const PENDING_PREFIX = 'pending/';

export interface PendingShip {
  snapshot: Hex64;
  /** Target sites, as names or URLs. */
  targets: string[];
  /** The contract it was taken under: catching up ships it under that contract's Object Lock. */
  contract?: string;
}

/** The staging folder of a repository under the georep home. */
export function stagingDir(home: string, repositoryId: Hex64): string {
  return path.join(home, 'staging', repositoryId);
}

export async function writePending(staging: Site, pending: PendingShip): Promise<void> {
  await staging.put(`${PENDING_PREFIX}${pending.snapshot}`, Buffer.from(JSON.stringify(pending)));
}

export async function listPending(staging: Site): Promise<PendingShip[]> {
  const out: PendingShip[] = [];
  for await (const info of staging.list(PENDING_PREFIX)) {
    const id = info.key.slice(PENDING_PREFIX.length);
    if (!isHex64(id)) continue;
    const value = JSON.parse((await staging.get(info.key)).toString('utf8')) as Partial<PendingShip>;
    const targets = Array.isArray(value.targets) ? value.targets.filter((t): t is string => typeof t === 'string') : [];
    out.push({ snapshot: id, targets, ...(typeof value.contract === 'string' ? { contract: value.contract } : {}) });
  }
  return out;
}

/** Bytes of packs waiting in staging. */
export async function stagedBytes(staging: Site): Promise<{ packs: number; bytes: number }> {
  let packs = 0;
  let bytes = 0;
  for await (const info of staging.list(DATA_PREFIX)) {
    packs++;
    bytes += info.size;
  }
  return { packs, bytes };
}
