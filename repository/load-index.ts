// Builds the in-memory index of a repository from its index objects. A damaged index object is
// reported and skipped, not fatal: the packs it described are still at the site, and losing
// their index only costs deduplication (and `verify` rebuilds it from the pack headers).
import { describeError } from '../core/errors.ts';
import { Semaphore } from '../sites/wrappers/semaphore.ts';
import { decodeIndex, MasterIndex } from './index.ts';
import type { Repository } from './repository.ts';
import type { Hex64 } from './types.ts';

export interface LoadedIndex {
  index: MasterIndex;
  /** Index objects that could not be read or decoded, with why. */
  problems: { id: Hex64; message: string }[];
}

export async function loadMasterIndex(repo: Repository, concurrency = 8): Promise<LoadedIndex> {
  const index = new MasterIndex();
  const problems: LoadedIndex['problems'] = [];
  const limit = new Semaphore(concurrency);
  const loads: Promise<void>[] = [];
  for await (const id of repo.listObjects('index')) {
    loads.push(
      limit.run(async () => {
        try {
          for (const pack of decodeIndex(await repo.loadObject('index', id), `index/${id}`)) index.addPack(pack);
        } catch (err) {
          problems.push({ id, message: describeError(err) });
        }
      }),
    );
  }
  await Promise.all(loads);
  return { index, problems };
}
