// Turns a snapshot's trees into restore batches, in tree order: which folders, files, links and
// special files go where under the target, and which blobs of which packs fill which file ranges.
// A batch holds a bounded number of entries and blob uses; the next one is planned while it is
// restored, and no further, so a restore's memory does not grow with the snapshot's files. Names
// come from trees that were authenticated and validated (repository/tree.ts), and are checked once
// more here, because a path that leaves the target is the one mistake a restore must never make.
import { UsageError } from '../../core/errors.ts';
import { keptCopy } from '../../core/gc.ts';
import { FormatError } from '../../repository/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import type { BlobLocator } from '../../repository/index.ts';
import type { Hex64, PackEntry, Tree, TreeNode } from '../../repository/types.ts';

/**
 * What became of a folder (or of the target itself), recorded by the restore when it made it:
 * every item points to the folder it is in, so this lives exactly as long as a batch or the walk
 * still needs it, not to the end of the restore.
 */
export interface FolderState {
  /** Made by this run (or the target, made or found empty): nothing of anyone else's is in it. */
  fresh: boolean;
  /** It, or a folder above it, could not be made: nothing is restored below it. */
  blocked: boolean;
}

export interface PlannedItem {
  /** Path relative to the target, as raw bytes ('/'-joined validated names). */
  rel: Buffer;
  node: TreeNode;
  /** The folder it is in. */
  parent: FolderState;
}

export interface PlannedDir extends PlannedItem, FolderState {}

/** The first path of an inode with further hard links; the restore records whether it failed. */
export interface LinkSource {
  rel: Buffer;
  failed: boolean;
}

export interface PlannedFile extends PlannedItem {
  /** Index into RestoreBatch.files. */
  index: number;
  /** Set on the first path of an inode with further links (in this batch or a later one). */
  linkSource?: LinkSource;
  /** Set on a further hard link: the first path, restored in this batch or an earlier one. */
  linkTo?: LinkSource;
}

export interface BlobUse {
  file: number;
  offset: number;
}

export interface PackWork {
  pack: Hex64;
  /** Needed blobs of this pack, each with every place it goes. */
  blobs: { entry: PackEntry; uses: BlobUse[] }[];
}

/** Consecutive entries of the snapshot's trees (pre-order: a folder before what it holds). */
export interface RestoreBatch {
  dirs: PlannedDir[];
  files: PlannedFile[];
  symlinks: PlannedItem[];
  specials: PlannedItem[];
  packs: PackWork[];
}

export interface PlanOptions {
  /** The target itself: the folder of the top entries. */
  target: FolderState;
  /** A batch is handed over once it holds this many entries (folders, files, links, specials)... */
  maxEntries: number;
  /** ...or this many blob uses (a file's chunks), whichever comes first; a file is never split. */
  maxBlobUses: number;
  /**
   * The first batch's entries at most (and its blob uses in proportion); each next batch may hold
   * twice as many as the one before, up to the maxima.
   */
  firstEntries?: number;
  /**
   * Takes a batch over; the walk waits for it before it plans the next. The restore returns once
   * the batch is under way (and the one before it is done), so the next is planned meanwhile.
   */
  onBatch(batch: RestoreBatch): Promise<void>;
}

export type PlanRoot = { tree: Hex64 } | { node: TreeNode };

const SLASH = Buffer.from('/');
/** Subtrees of a folder read ahead of the walk, per level of the path being walked. */
const READ_AHEAD = 8;

export function assertSafeName(name: Buffer, where: string): void {
  const bad =
    name.length === 0 ||
    name.includes(0) ||
    name.includes(SLASH) ||
    (name.length === 1 && name[0] === 0x2e) ||
    (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);
  if (bad) throw new FormatError(`refusing unsafe name ${JSON.stringify(name.toString())} in ${where}`);
}

/** Starts reading a tree; a read ahead may fail before it is awaited (it is awaited later). */
function readTree(reader: BlobReader, tree: Hex64): Promise<Tree> {
  const p = reader.readTree(tree);
  p.catch(() => undefined);
  return p;
}

/**
 * Plans the restore of `root` (the snapshot's root tree, or a single node when restoring one path)
 * into the target, batch by batch, each handed to `onBatch` before the next is planned. A batch
 * holds only its own entries and blob uses; what outlives it is the walk's path (each folder's
 * nodes, and its subtrees read ahead) and the first path of every inode with hard links. A blob
 * that files of two batches share is fetched once for each: a batch knows nothing of the others.
 */
export async function planRestore(reader: BlobReader, index: BlobLocator, root: PlanRoot, options: PlanOptions): Promise<void> {
  const inodes = new Map<number, LinkSource>();
  let batch: RestoreBatch;
  let packs: Map<Hex64, Map<Hex64, { entry: PackEntry; uses: BlobUse[] }>>;
  let entries: number;
  let uses: number;
  let maxEntries = Math.max(1, Math.min(options.firstEntries ?? options.maxEntries, options.maxEntries));
  const maxUses = (): number => Math.max(1, Math.ceil((options.maxBlobUses * maxEntries) / options.maxEntries));
  const start = (): void => {
    batch = { dirs: [], files: [], symlinks: [], specials: [], packs: [] };
    packs = new Map();
    entries = 0;
    uses = 0;
  };
  start();
  const flush = async (): Promise<void> => {
    if (entries === 0) return;
    for (const [pack, blobs] of packs) {
      batch.packs.push({ pack, blobs: [...blobs.values()].sort((a, b) => a.entry.offset - b.entry.offset) });
    }
    const full = batch;
    start();
    maxEntries = Math.min(maxEntries * 2, options.maxEntries);
    await options.onBatch(full);
  };
  /** Counts an entry and hands the batch over when it is full. */
  const added = async (): Promise<void> => {
    entries++;
    if (entries >= maxEntries || uses >= maxUses()) await flush();
  };

  const addFile = (rel: Buffer, node: TreeNode, parent: FolderState): void => {
    const file: PlannedFile = { rel, node, parent, index: batch.files.length };
    if (node.inode !== undefined && (node.links ?? 1) > 1) {
      const first = inodes.get(node.inode);
      if (first !== undefined) file.linkTo = first;
      // Kept to the end of the restore: its own copy of the path, so it does not keep the pool
      // slab (64 KiB) its batch's paths were cut from.
      else inodes.set(node.inode, (file.linkSource = { rel: keptCopy(rel), failed: false }));
    }
    batch.files.push(file);
    if (file.linkTo !== undefined) return;
    let offset = 0;
    for (const id of node.content ?? []) {
      const location = index.lookup(id);
      if (location === undefined) {
        throw new FormatError(`blob ${id} of ${rel.toString()} is not in the repository index`);
      }
      let blobs = packs.get(location.pack);
      if (blobs === undefined) packs.set(location.pack, (blobs = new Map()));
      let use = blobs.get(id);
      if (use === undefined) blobs.set(id, (use = { entry: location.entry, uses: [] }));
      use.uses.push({ file: file.index, offset });
      offset += location.entry.rawLength;
      uses++;
    }
    if (offset !== (node.size ?? 0)) {
      throw new FormatError(`file ${rel.toString()}: its chunks add up to ${offset} bytes, not ${node.size ?? 0}`);
    }
  };

  const addItem = (rel: Buffer, node: TreeNode, parent: FolderState): void => {
    if (node.type === 'file') addFile(rel, node, parent);
    else if (node.type === 'symlink') batch.symlinks.push({ rel, node, parent });
    else batch.specials.push({ rel, node, parent });
  };

  const visit = async (tree: Hex64, treeRead: Promise<Tree>, folder: PlannedDir | FolderState, rel: Buffer): Promise<void> => {
    const { nodes } = await treeRead;
    // Subtrees are read a few ahead of the walk (each read waits on the site, and a snapshot has
    // thousands of folders); the plan still follows the trees' order.
    const subtrees = nodes.flatMap((n) => (n.type === 'dir' && n.subtree !== undefined ? [n.subtree] : []));
    const ahead: Promise<Tree>[] = [];
    const readNext = (): void => {
      if (ahead.length < subtrees.length) ahead.push(readTree(reader, subtrees[ahead.length]!));
    };
    for (let i = 0; i < READ_AHEAD; i++) readNext();
    let next = 0;
    for (const node of nodes) {
      assertSafeName(node.name, `tree ${tree}`);
      const child = rel.length === 0 ? node.name : Buffer.concat([rel, SLASH, node.name]);
      if (node.type === 'dir') {
        const dir: PlannedDir = { rel: child, node, parent: folder, fresh: false, blocked: false };
        batch.dirs.push(dir);
        await added();
        if (node.subtree !== undefined) {
          readNext();
          await visit(node.subtree, ahead[next++]!, dir, child);
        }
      } else {
        addItem(child, node, folder);
        await added();
      }
    }
  };

  if ('tree' in root) {
    await visit(root.tree, readTree(reader, root.tree), options.target, Buffer.alloc(0));
  } else {
    const { node } = root;
    assertSafeName(node.name, 'the requested path');
    if (node.type === 'dir') {
      const dir: PlannedDir = { rel: node.name, node, parent: options.target, fresh: false, blocked: false };
      batch!.dirs.push(dir);
      await added();
      if (node.subtree !== undefined) await visit(node.subtree, readTree(reader, node.subtree), dir, node.name);
    } else {
      addItem(node.name, node, options.target);
      await added();
    }
  }
  await flush();
}

/**
 * The bytes of every file under `root` (each hard link counted, as a manifest's summary does), for
 * the progress of a restore whose caller does not know them: a walk of the trees alone, keeping
 * only the folders still to read.
 */
export async function bytesUnder(reader: BlobReader, root: PlanRoot): Promise<number> {
  if ('node' in root && root.node.type !== 'dir') return root.node.size ?? 0;
  const first = 'tree' in root ? root.tree : root.node.subtree;
  const pending: Hex64[] = first === undefined ? [] : [first];
  let total = 0;
  while (pending.length > 0) {
    const reads = pending.splice(-READ_AHEAD).map((tree) => readTree(reader, tree));
    for (const read of reads) {
      for (const node of (await read).nodes) {
        if (node.type === 'file') total += node.size ?? 0;
        else if (node.type === 'dir' && node.subtree !== undefined) pending.push(node.subtree);
      }
    }
  }
  return total;
}

/** Finds the node at `subPath` ('a/b/c', relative to the snapshot root), or undefined. */
export async function findNode(reader: BlobReader, rootTree: Hex64, subPath: string): Promise<TreeNode | undefined> {
  const parts = subPath.split('/').filter((p) => p !== '' && p !== '.');
  // The path is what the user typed: a bad one is a usage error (exit 2), not damage.
  if (parts.includes('..')) throw new UsageError(`path ${JSON.stringify(subPath)} must not contain '..'`);
  let tree: Hex64 | undefined = rootTree;
  let found: TreeNode | undefined;
  for (const part of parts) {
    if (tree === undefined) return undefined;
    const want = Buffer.from(part);
    found = (await reader.readTree(tree)).nodes.find((n) => n.name.equals(want));
    if (found === undefined) return undefined;
    tree = found.type === 'dir' ? found.subtree : undefined;
  }
  return found;
}
