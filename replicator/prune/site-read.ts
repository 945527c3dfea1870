// What prune reads of one site's repository before deciding anything: the packs listed under
// data/ (with sizes), every index object with the ids of the packs it describes (phase 2 rewrites
// the objects that name deleted packs), the packs' descriptions in the compact MasterIndex, and
// every snapshot manifest. Nothing is written. Problems are collected, not thrown: the caller
// decides what they forbid.
//
// The descriptions used to be kept decoded, per object, until the end: ~150 MiB of objects and
// strings for a repository of 200,000 files (a dry run peaked at 323-335 MiB, 211 at 20,000).
import { describeError } from '../../core/errors.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import { decodeIndex, MasterIndex } from '../../repository/index.ts';
import { indexLoadGc } from '../../repository/load-index.ts';
import { DATA_PREFIX } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import { listSnapshots, type SnapshotEntry } from '../../repository/snapshots.ts';
import type { Hex64 } from '../../repository/types.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';

export interface SiteContents {
  /** Pack id → size, as one listing of data/ showed them (may be stale; never proof of absence). */
  listed: Map<Hex64, number>;
  /** Index object id → the ids of the packs it describes, in its order. */
  indexObjects: Map<Hex64, Hex64[]>;
  /**
   * Every pack an index object describes, as it describes it, in the order the objects were read
   * (a pack described by two objects is there once: the same id is the same bytes).
   */
  packs: MasterIndex;
  /** Index objects that could not be read or decoded. */
  indexProblems: { id: Hex64; message: string }[];
  snapshots: SnapshotEntry[];
  /** Manifests that could not be read or did not authenticate. */
  manifestProblems: { id: Hex64; message: string }[];
}

export async function readSiteContents(repo: Repository, concurrency = 8): Promise<SiteContents> {
  const listed = new Map<Hex64, number>();
  for await (const info of repo.site.list(DATA_PREFIX)) {
    const id = info.key.slice(info.key.lastIndexOf('/') + 1);
    // Only keys that are exactly where a pack of that name belongs count as that pack.
    if (isHex64(id) && info.key === repo.packKey(id)) listed.set(id, info.size);
  }
  const indexObjects = new Map<Hex64, Hex64[]>();
  const packs = new MasterIndex();
  const gcHint = indexLoadGc();
  const indexProblems: SiteContents['indexProblems'] = [];
  const limit = new Semaphore(concurrency);
  const loads: Promise<void>[] = [];
  for await (const id of repo.listObjects('index')) {
    loads.push(
      limit.run(async () => {
        try {
          const described = decodeIndex(await repo.loadObject('index', id), `index/${id}`);
          for (const pack of described) {
            packs.addPack(pack);
            gcHint.allocated(pack.blobs.length);
          }
          indexObjects.set(id, described.map((p) => p.id));
        } catch (err) {
          indexProblems.push({ id, message: describeError(err) });
        }
      }),
    );
  }
  await Promise.all(loads);
  const { snapshots, problems } = await listSnapshots(repo, concurrency);
  return { listed, indexObjects, packs, indexProblems, snapshots, manifestProblems: problems };
}
