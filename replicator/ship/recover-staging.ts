// Resume after a killed run: a snapshot run stores its packs in staging as it goes and writes the
// index objects describing them as they add up (replicator/snapshot/run-index.ts), so a run killed
// mid-way leaves in staging the packs stored since its last index object, which no index names. Without this, the next run would chunk, pack and upload the same
// data again (new salts, so new pack ids) and the old packs would only wait to be deleted.
//
// recoverStagedPacks() reads every such pack in full, checks that its SHA-256 is its name and
// that its header opens with our key, adds it to the dedup index and writes one index object for
// all of them into staging, so the shipping step finds them like any other staged pack. A copy
// that fails these checks is deleted: staging is ours and local, and the data is still at the
// source. (A partner site's copies are never deleted here.)
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import { FormatError, IntegrityError } from '../../repository/errors.ts';
import { encodeIndex } from '../../repository/index.ts';
import { DATA_PREFIX } from '../../repository/layout.ts';
import { readPack } from '../../repository/pack/reader.ts';
import type { Repository } from '../../repository/repository.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { NotFoundError } from '../../sites/errors.ts';
import type { Site } from '../../sites/site.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';
import type { ShipIndex } from './ship-index.ts';

export interface RecoveredPacks {
  packs: PackDescription[];
  bytes: number;
  /** The index object written for them into staging; undefined when nothing was recovered. */
  indexId: Hex64 | undefined;
  /** Staged copies that were damaged (or not ours) and deleted, with why. */
  discarded: { key: string; problem: string }[];
}

export interface RecoverOptions {
  /** The staging repository: its key opens the packs, saveObject writes to staging. */
  repo: Repository;
  /** Staging's own site, without read fallback: only what is really in staging is recovered. */
  stagingSite: Site;
  /** The dedup index of the coming run (loadShipIndex); recovered packs are added to it. */
  shipIndex: ShipIndex;
  logger: Logger;
  /** Packs read at once; each is held whole in memory while it is checked. Default 2. */
  concurrency?: number;
}

export async function recoverStagedPacks(options: RecoverOptions): Promise<RecoveredPacks> {
  const { repo, stagingSite, shipIndex, logger } = options;
  const orphans: { key: string; id: Hex64 }[] = [];
  for await (const info of stagingSite.list(DATA_PREFIX)) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    if (isHex64(id) && !shipIndex.index.hasPack(id)) orphans.push({ key: info.key, id });
  }
  const result: RecoveredPacks = { packs: [], bytes: 0, indexId: undefined, discarded: [] };
  if (orphans.length === 0) return result;
  const limit = new Semaphore(options.concurrency ?? 2);
  await Promise.all(
    orphans.map(({ key, id }) =>
      limit.run(async () => {
        let bytes: Buffer;
        try {
          bytes = await stagingSite.get(key);
        } catch (err) {
          if (err instanceof NotFoundError) return; // Deleted meanwhile (a release): nothing to recover.
          throw err;
        }
        try {
          result.packs.push(readPack(repo.key, bytes, id).description);
          result.bytes += bytes.byteLength;
        } catch (err) {
          if (!(err instanceof IntegrityError || err instanceof FormatError)) throw err;
          result.discarded.push({ key, problem: describeError(err) });
          await stagingSite.delete(key).catch((e: unknown) => {
            if (!(e instanceof NotFoundError)) throw e;
          });
        }
      }),
    ),
  );
  for (const d of result.discarded) logger.warn({ object: d.key, problem: d.problem }, 'staged pack is damaged: deleted from staging');
  if (result.packs.length === 0) return result;
  // One index object, written before anything else of this run: a second kill keeps the work.
  result.packs.sort((a, b) => a.id.localeCompare(b.id));
  result.indexId = await repo.saveObject('index', encodeIndex(result.packs));
  for (const pack of result.packs) {
    shipIndex.index.addPack(pack);
    shipIndex.indexOf.set(pack.id, [result.indexId]);
  }
  logger.info({ packs: result.packs.length, bytes: result.bytes, index: result.indexId }, 'recovered packs a killed run left in staging');
  return result;
}
