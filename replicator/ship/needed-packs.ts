// Which packs a snapshot needs: every pack holding one of its blobs, tree blobs included. Found by
// walking the snapshot's trees (each distinct subtree once, a wide folder's pages included) and looking every blob id up in the
// index. A blob the index does not know is an error: the manifest would name something no site
// could serve, and shipping it would commit a damaged snapshot.
//
// A walk over many snapshots (prune, catalog rebuild) passes one SubtreePacks to every call:
// consecutive snapshots share most of their subtrees (an unchanged folder is the same blob), and
// a subtree already walked answers with its packs, without a read. What is kept is a few pack ids
// per folder; the decoded trees kept instead before (up to a million nodes, ~0.5 KiB each) took
// a catalog rebuild of the 10 GiB bench repository to ~600 MiB.
import { IntegrityError } from '../../repository/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import type { Hex64 } from '../../repository/types.ts';
import { Semaphore } from '../../sites/wrappers/semaphore.ts';

/**
 * The packs each subtree walked so far needs (itself and everything below it), by tree id. Valid
 * for one index: a blob's pack is whatever that index answers. Bounded by the pack ids it holds
 * (a folder near the root needs most packs, and each snapshot has its own such folders): at the
 * bound it is emptied and fills again, which costs reads, never answers.
 */
export class SubtreePacks {
  private readonly packs = new Map<Hex64, readonly Hex64[]>();
  private held = 0;
  private readonly maxIds: number;

  /** At most `maxIds` pack ids (8 bytes each, the ids themselves are the index's) and subtrees. */
  constructor(maxIds = 2_000_000) {
    this.maxIds = maxIds;
  }

  get(tree: Hex64): readonly Hex64[] | undefined {
    return this.packs.get(tree);
  }

  set(tree: Hex64, packs: readonly Hex64[]): void {
    if (this.held + packs.length + 1 > this.maxIds) {
      this.packs.clear();
      this.held = 0;
    }
    this.packs.set(tree, packs);
    this.held += packs.length + 1;
  }
}

export async function neededPacks(
  reader: Pick<BlobReader, 'readTree'>,
  index: MasterIndex,
  root: Hex64,
  options: { concurrency?: number; walked?: SubtreePacks } = {},
): Promise<Set<Hex64>> {
  const limit = new Semaphore(options.concurrency ?? 16);
  const walked = options.walked;
  /** This walk's subtrees, so one shared inside the snapshot is walked once. */
  const visits = new Map<Hex64, Promise<readonly Hex64[]>>();
  const need = (packs: Set<Hex64>, blob: Hex64, what: string): void => {
    // Asked for every blob of every file: packHolding() makes no objects, where lookup() made two.
    const pack = index.packHolding(blob);
    if (pack === undefined) {
      throw new IntegrityError(`${what} ${blob} of the snapshot is in no index: refusing to ship a snapshot that cannot be restored`);
    }
    packs.add(pack);
  };
  /** Reads a tree into `packs` and answers its subtrees: the decoded tree is let go here. */
  const readOne = async (tree: Hex64, packs: Set<Hex64>): Promise<Hex64[]> => {
    const { nodes, pages } = await limit.run(() => reader.readTree(tree));
    // A wide folder's pages are blobs of the snapshot too: without them it could not be read.
    for (const page of pages ?? []) need(packs, page, 'tree page');
    const subtrees: Hex64[] = [];
    for (const node of nodes) {
      for (const blob of node.content ?? []) need(packs, blob, 'blob');
      if (node.subtree !== undefined) subtrees.push(node.subtree);
    }
    return subtrees;
  };
  const walk = async (tree: Hex64): Promise<readonly Hex64[]> => {
    const packs = new Set<Hex64>();
    need(packs, tree, 'tree');
    const subtrees = await readOne(tree, packs);
    for (const below of await Promise.all(subtrees.map(visit))) for (const pack of below) packs.add(pack);
    const found = [...packs];
    walked?.set(tree, found);
    return found;
  };
  const visit = (tree: Hex64): Promise<readonly Hex64[]> => {
    const known = walked?.get(tree);
    if (known !== undefined) return Promise.resolve(known);
    let visiting = visits.get(tree);
    if (visiting === undefined) visits.set(tree, (visiting = walk(tree)));
    return visiting;
  };
  return new Set(await visit(root));
}
