// Releasing staging, snapshot by snapshot. When a snapshot is committed at every one of its targets
// its pending record goes, and with it every staged object no other pending snapshot still needs:
// a pack stays while some pending snapshot needs it (its reference count, over the pending
// snapshots, is not zero), so a site that stays dead holds back only the packs of the snapshots it
// missed, not everything staged since. What a pending snapshot needs is found by walking its trees
// (neededPacks) and closed over staging's index objects: an index object describing a kept pack
// stays, and so does every pack it describes, because shipping sends an index object only together
// with every pack it lists. When no pending record is left, the packs, index objects and manifests
// all go (config and keys stay), without a walk.
//
// Safe to kill at any point: the pending record goes first, and only objects that no remaining
// pending snapshot needs are deleted after it. If a remaining snapshot cannot be walked (its
// manifest or a tree unreadable), nothing is deleted: staging is the copy of last resort.
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import { DATA_PREFIX, objectKey, objectPrefix } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import { validateSnapshot } from '../../repository/snapshot.ts';
import type { Hex64 } from '../../repository/types.ts';
import { NotFoundError } from '../../sites/errors.ts';
import type { Site } from '../../sites/site.ts';
import { neededPacks, SubtreePacks } from './needed-packs.ts';
import type { ShipIndex } from './ship-index.ts';
import { listPending, PENDING_PREFIX } from './staging.ts';

export interface ReleaseOptions {
  /** Staging's own site. */
  stagingSite: Site;
  /** The staging repository (reads may fall back to the targets). */
  staging: Repository;
  /** An index covering every pending snapshot's blobs (loadShipIndex). */
  shipIndex: ShipIndex;
  /** The snapshot now committed at every one of its targets. */
  snapshot: Hex64;
  logger: Logger;
}

export interface ReleaseResult {
  /** No snapshot is pending any more: staging holds config and keys only. */
  emptied: boolean;
  packsDeleted: number;
  bytesDeleted: number;
  /** Packs kept for the snapshots still pending. */
  packsKept: number;
}

export async function releaseStaged(options: ReleaseOptions): Promise<ReleaseResult> {
  const { stagingSite: site, snapshot, logger } = options;
  await deleteQuietly(site, `${PENDING_PREFIX}${snapshot}`);
  const pending = await listPending(site);
  const result: ReleaseResult = { emptied: pending.length === 0, packsDeleted: 0, bytesDeleted: 0, packsKept: 0 };
  let keepPacks = new Set<Hex64>();
  let keepIndex = new Set<Hex64>();
  if (pending.length > 0) {
    try {
      ({ keepPacks, keepIndex } = await stillNeeded(options, pending.map((p) => p.snapshot)));
    } catch (err) {
      logger.warn({ problem: describeError(err) }, 'staging: cannot tell what the pending snapshots need; keeping every staged pack');
      return result;
    }
  }
  const keepManifests = new Set(pending.map((p) => p.snapshot));
  for await (const { id, key, size } of objects(site, DATA_PREFIX)) {
    if (keepPacks.has(id)) {
      result.packsKept++;
      continue;
    }
    if (await deleteQuietly(site, key)) {
      result.packsDeleted++;
      result.bytesDeleted += size;
    }
  }
  for await (const { id, key } of objects(site, objectPrefix('index'))) if (!keepIndex.has(id)) await deleteQuietly(site, key);
  for await (const { id, key } of objects(site, objectPrefix('snapshot'))) if (!keepManifests.has(id)) await deleteQuietly(site, key);
  logger.debug({ snapshot, ...result }, 'staging released');
  return result;
}

/** The staged packs and index objects the pending snapshots need (closed as the header says). */
async function stillNeeded(options: ReleaseOptions, pending: Hex64[]): Promise<{ keepPacks: Set<Hex64>; keepIndex: Set<Hex64> }> {
  const { staging, shipIndex } = options;
  const reader = new BlobReader(staging, shipIndex.index);
  const keepPacks = new Set<Hex64>();
  const walked = new SubtreePacks();
  for (const id of pending) {
    const manifest = validateSnapshot(await staging.loadObject('snapshot', id), objectKey('snapshot', id));
    for (const pack of await neededPacks(reader, shipIndex.index, manifest.tree, { walked })) keepPacks.add(pack);
  }
  const own = new Set<Hex64>();
  for await (const { id } of objects(options.stagingSite, objectPrefix('index'))) own.add(id);
  const keepIndex = new Set<Hex64>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pack, describing] of shipIndex.indexOf) {
      const kept = keepPacks.has(pack);
      for (const id of describing) {
        if (!own.has(id)) continue;
        if (kept && !keepIndex.has(id)) {
          keepIndex.add(id);
          grew = true;
        } else if (!kept && keepIndex.has(id)) {
          keepPacks.add(pack);
          grew = true;
          break;
        }
      }
    }
  }
  return { keepPacks, keepIndex };
}

async function* objects(site: Site, prefix: string): AsyncGenerator<{ id: Hex64; key: string; size: number }> {
  const found: { id: Hex64; key: string; size: number }[] = [];
  for await (const info of site.list(prefix)) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    if (isHex64(id)) found.push({ id, key: info.key, size: info.size });
  }
  // Listed in full before deleting: a listing is not asked to stay stable under deletes.
  yield* found;
}

async function deleteQuietly(site: Site, key: string): Promise<boolean> {
  try {
    await site.delete(key);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
