// The index shipping works with: the index objects of staging plus those of every target that
// answers, decoded into one MasterIndex (each object once, wherever it is), and for every pack the index objects that describe it (a
// site that receives a pack must also receive an index object listing it, or its own repository
// could not find the pack's blobs). Reads go through the staging repository, whose site falls back
// to the targets (ReadFallbackSite), so the key decrypts objects wherever they are.
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { decodeIndex, MasterIndex } from '../../repository/index.ts';
import { objectPrefix } from '../../repository/layout.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import type { Site } from '../../sites/site.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';

export interface ShipIndex {
  index: MasterIndex;
  /** Pack id → ids of the index objects that list it. */
  indexOf: Map<Hex64, Hex64[]>;
  /** The targets whose index objects were listed (those that answered). */
  sources: string[];
}

/** Ids of the index objects at a site. */
export async function listIndexIds(site: Site, signal?: AbortSignal): Promise<Set<Hex64>> {
  const prefix = objectPrefix('index');
  const ids = new Set<Hex64>();
  for await (const info of site.list(prefix, { signal })) {
    const id = info.key.slice(prefix.length);
    if (isHex64(id)) ids.add(id);
  }
  return ids;
}

/**
 * Loads staging's index objects and those of every answering target. Every target, not just the
 * first: a target that is behind (or whose staging copy is gone) lacks the index objects of the
 * snapshots it missed, and shipping them from another site needs those to find their packs. The
 * listings are cheap; each object is read once. A damaged index object is logged and skipped (as
 * loadMasterIndex does): it only costs deduplication.
 */
export async function loadShipIndex(
  staging: Repository,
  primary: Site,
  targets: readonly Site[],
  logger: Logger,
): Promise<ShipIndex> {
  const { ids, sources } = await listAll(primary, targets, logger);
  const shipIndex: ShipIndex = { index: new MasterIndex(), indexOf: new Map(), sources };
  await addObjects(shipIndex, staging, ids, logger);
  return shipIndex;
}

/**
 * `previous` brought up to date, as loadShipIndex() would load it now, reading only the index
 * objects it lacks: a snapshot loads the ship index before building and again after, for the index
 * object the build added, and the second full read fetched every object again (from the targets, as
 * staging no longer holds the older ones). Listings are made afresh; when an object `previous` read
 * is no longer listed anywhere (prune rewrote it) the index is loaded in full, since a MasterIndex
 * cannot drop packs. Updates `previous` in place (its index may hold the build's packs already:
 * adding a pack again changes nothing) and returns it.
 */
export async function refreshShipIndex(
  previous: ShipIndex,
  staging: Repository,
  primary: Site,
  targets: readonly Site[],
  logger: Logger,
): Promise<ShipIndex> {
  const { ids, sources } = await listAll(primary, targets, logger);
  const read = new Set<Hex64>();
  for (const list of previous.indexOf.values()) for (const id of list) read.add(id);
  for (const id of read) {
    if (!ids.has(id)) return loadShipIndex(staging, primary, targets, logger);
  }
  previous.sources = sources;
  await addObjects(previous, staging, [...ids].filter((id) => !read.has(id)), logger);
  return previous;
}

/** The index object ids at staging and at every target that answers its listing. */
async function listAll(primary: Site, targets: readonly Site[], logger: Logger): Promise<{ ids: Set<Hex64>; sources: string[] }> {
  const ids = await listIndexIds(primary);
  const sources: string[] = [];
  const listed = await Promise.all(
    targets.map(async (target) => {
      try {
        return await listIndexIds(target);
      } catch (err) {
        logger.warn({ site: target.name, problem: describeError(err) }, 'cannot list the index at this site; passing over it');
        return undefined;
      }
    }),
  );
  listed.forEach((found, i) => {
    if (found === undefined) return;
    for (const id of found) ids.add(id);
    sources.push(targets[i]!.name);
  });
  return { ids, sources };
}

/** Reads the index objects `ids` (8 at a time) into `shipIndex`; a damaged one is logged and skipped. */
async function addObjects(shipIndex: ShipIndex, staging: Repository, ids: Iterable<Hex64>, logger: Logger): Promise<void> {
  const { index, indexOf } = shipIndex;
  const limit = new Semaphore(8);
  await Promise.all(
    [...ids].map((id) =>
      limit.run(async () => {
        try {
          for (const pack of decodeIndex(await staging.loadObject('index', id), `index/${id}`)) {
            index.addPack(pack);
            const list = indexOf.get(pack.id);
            if (list === undefined) indexOf.set(pack.id, [id]);
            else if (!list.includes(id)) list.push(id);
          }
        } catch (err) {
          logger.warn({ index: id, problem: describeError(err) }, 'index object skipped');
        }
      }),
    ),
  );
}
