// Which packs a snapshot needs: every pack holding one of its blobs, tree blobs included. Found by
// walking the snapshot's trees (each distinct subtree once, a wide folder's pages included) and looking every blob id up in the
// index. A blob the index does not know is an error: the manifest would name something no site
// could serve, and shipping it would commit a damaged snapshot.
import { IntegrityError } from '../../repository/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import type { Hex64 } from '../../repository/types.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';

export async function neededPacks(
  reader: Pick<BlobReader, 'readTree'>,
  index: MasterIndex,
  root: Hex64,
  concurrency = 16,
): Promise<Set<Hex64>> {
  const packs = new Set<Hex64>();
  const seen = new Set<Hex64>();
  const limit = new Semaphore(concurrency);
  const need = (blob: Hex64, what: string): void => {
    // Asked for every blob of every file: packHolding() makes no objects, where lookup() made two.
    const pack = index.packHolding(blob);
    if (pack === undefined) {
      throw new IntegrityError(`${what} ${blob} of the snapshot is in no index: refusing to ship a snapshot that cannot be restored`);
    }
    packs.add(pack);
  };
  /** Reads a tree, needs what it holds, and answers its subtrees: the decoded tree is let go here. */
  const readOne = async (tree: Hex64): Promise<Hex64[]> => {
    const { nodes, pages } = await limit.run(() => reader.readTree(tree));
    // A wide folder's pages are blobs of the snapshot too: without them it could not be read.
    for (const page of pages ?? []) need(page, 'tree page');
    const subtrees: Hex64[] = [];
    for (const node of nodes) {
      for (const blob of node.content ?? []) need(blob, 'blob');
      if (node.subtree !== undefined) subtrees.push(node.subtree);
    }
    return subtrees;
  };
  // Only subtree ids wait for their walk, not the trees that named them: held until their
  // subtrees were done, a snapshot's decoded trees were all alive at once (200,000 files: ~35 MiB).
  const visit = async (tree: Hex64): Promise<void> => {
    if (seen.has(tree)) return;
    seen.add(tree);
    need(tree, 'tree');
    await Promise.all((await readOne(tree)).map(visit));
  };
  await visit(root);
  return packs;
}
