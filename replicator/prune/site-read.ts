// What prune reads of one site's repository before deciding anything: the packs listed under
// data/ (with sizes), every index object with the packs it describes (kept per object, because
// phase 2 rewrites the objects that name deleted packs), and every snapshot manifest. Nothing is
// written. Problems are collected, not thrown: the caller decides what they forbid.
import { describeError } from '../../core/errors.ts';
import { isHex64 } from '../../repository/crypto/hash.ts';
import { decodeIndex } from '../../repository/index.ts';
import { DATA_PREFIX } from '../../repository/layout.ts';
import type { Repository } from '../../repository/repository.ts';
import { listSnapshots, type SnapshotEntry } from '../../repository/snapshots.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';

export interface SiteContents {
  /** Pack id → size, as one listing of data/ showed them (may be stale; never proof of absence). */
  listed: Map<Hex64, number>;
  /** Index object id → the packs it describes. */
  indexObjects: Map<Hex64, PackDescription[]>;
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
  const indexObjects = new Map<Hex64, PackDescription[]>();
  const indexProblems: SiteContents['indexProblems'] = [];
  const limit = new Semaphore(concurrency);
  const loads: Promise<void>[] = [];
  for await (const id of repo.listObjects('index')) {
    loads.push(
      limit.run(async () => {
        try {
          indexObjects.set(id, decodeIndex(await repo.loadObject('index', id), `index/${id}`));
        } catch (err) {
          indexProblems.push({ id, message: describeError(err) });
        }
      }),
    );
  }
  await Promise.all(loads);
  const { snapshots, problems } = await listSnapshots(repo, concurrency);
  return { listed, indexObjects, indexProblems, snapshots, manifestProblems: problems };
}
