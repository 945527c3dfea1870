// Builds the in-memory index of a repository from its index objects. A damaged index object is
// reported and skipped, not fatal: the packs it described are still at the site, and losing
// their index only costs deduplication (and `verify` rebuilds it from the pack headers).
import { describeError } from '../core/errors.ts';
import { GcHint } from '../core/gc.ts';
import { Semaphore } from '../sites/wrappers/semaphore.ts';
import { decodeIndex, MasterIndex } from './index.ts';
import type { Repository } from './repository.ts';
import type { Hex64, PackDescription } from './types.ts';

export interface LoadedIndex {
  index: MasterIndex;
  /** Index objects that could not be read or decoded, with why. */
  problems: { id: Hex64; message: string }[];
}

/**
 * Blobs decoded between full collections. An index object is parsed whole (its JSON, then an
 * object per entry) and all of it is garbage once added to the compact MasterIndex; the main
 * thread's young generation is small, so that garbage reaches the old generation and waited
 * there: loading 200,000 blobs' objects took the heap from 20 to 73 MiB, a peak the process
 * kept for the rest of its run. A full collection of the small heap after each ~16,384 blobs
 * costs a few milliseconds.
 */
const BLOBS_PER_COLLECTION = 16_384;

/** Collections paced for loading index objects: tell it the blobs of each pack added. */
export function indexLoadGc(): GcHint {
  return new GcHint(BLOBS_PER_COLLECTION, 'major');
}

export async function loadMasterIndex(repo: Repository, concurrency = 8): Promise<LoadedIndex> {
  const index = new MasterIndex();
  const { problems } = await loadIndexInto(repo, index, concurrency);
  return { index, problems };
}

/** What an index is loaded into: every pack description of every readable index object. */
export interface IndexSink {
  addPack(description: PackDescription): void;
}

/**
 * Adds every pack the repository's index objects describe to `sink` (a MasterIndex, or the
 * snapshot's SpilledIds). Damaged objects are skipped and returned with why.
 */
export async function loadIndexInto(repo: Repository, sink: IndexSink, concurrency = 8): Promise<Pick<LoadedIndex, 'problems'>> {
  const gcHint = indexLoadGc();
  const problems: LoadedIndex['problems'] = [];
  const limit = new Semaphore(concurrency);
  const loads: Promise<void>[] = [];
  for await (const id of repo.listObjects('index')) {
    loads.push(
      limit.run(async () => {
        try {
          for (const pack of decodeIndex(await repo.loadObject('index', id), `index/${id}`)) {
            sink.addPack(pack);
            gcHint.allocated(pack.blobs.length);
          }
        } catch (err) {
          problems.push({ id, message: describeError(err) });
        }
      }),
    );
  }
  await Promise.all(loads);
  return { problems };
}
