// Turns a snapshot's trees into a restore plan: which folders, files, links and special files go
// where under the target, and which blobs of which packs fill which file ranges. Names come from
// trees that were authenticated and validated (repository/tree.ts), and are checked once more
// here, because a path that leaves the target is the one mistake a restore must never make.
import { UsageError } from '../../core/errors.ts';
import { FormatError } from '../../repository/errors.ts';
import type { BlobReader } from '../../repository/blob-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import type { Hex64, PackEntry, Tree, TreeNode } from '../../repository/types.ts';

export interface PlannedItem {
  /** Path relative to the target, as raw bytes ('/'-joined validated names). */
  rel: Buffer;
  node: TreeNode;
}

export interface PlannedFile extends PlannedItem {
  /** Index into RestorePlan.files. */
  index: number;
  /** The path of the first file with the same inode, when this one is a further hard link. */
  linkTo?: Buffer;
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

export interface RestorePlan {
  dirs: PlannedItem[];
  files: PlannedFile[];
  symlinks: PlannedItem[];
  specials: PlannedItem[];
  packs: PackWork[];
  totalBytes: number;
}

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

/**
 * Plans the restore of `root` (a tree id, or a single node when restoring one file) into the
 * target. `prefix` is the path of root relative to the target ('' for the target itself).
 */
export async function planRestore(
  reader: BlobReader,
  index: MasterIndex,
  root: { tree: Hex64 } | { node: TreeNode },
): Promise<RestorePlan> {
  const plan: RestorePlan = { dirs: [], files: [], symlinks: [], specials: [], packs: [], totalBytes: 0 };
  const packs = new Map<Hex64, Map<Hex64, { entry: PackEntry; uses: BlobUse[] }>>();
  const inodes = new Map<number, Buffer>();

  const addFile = (rel: Buffer, node: TreeNode): void => {
    const file: PlannedFile = { rel, node, index: plan.files.length };
    if (node.inode !== undefined && (node.links ?? 1) > 1) {
      const first = inodes.get(node.inode);
      if (first !== undefined) file.linkTo = first;
      else inodes.set(node.inode, rel);
    }
    plan.files.push(file);
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
    }
    if (offset !== (node.size ?? 0)) {
      throw new FormatError(`file ${rel.toString()}: its chunks add up to ${offset} bytes, not ${node.size ?? 0}`);
    }
    plan.totalBytes += offset;
  };

  // Subtrees are read a few ahead of the walk (each read waits on the site, and a snapshot has
  // thousands of folders); the plan still follows the trees' order.
  const read = (tree: Hex64): Promise<Tree> => {
    const p = reader.readTree(tree);
    p.catch(() => undefined); // a read ahead may fail before it is awaited; it is awaited later
    return p;
  };
  const visit = async (tree: Hex64, treeRead: Promise<Tree>, rel: Buffer): Promise<void> => {
    const { nodes } = await treeRead;
    const subtrees = nodes.flatMap((n) => (n.type === 'dir' && n.subtree !== undefined ? [n.subtree] : []));
    const ahead: Promise<Tree>[] = [];
    const readNext = (): void => {
      if (ahead.length < subtrees.length) ahead.push(read(subtrees[ahead.length]!));
    };
    for (let i = 0; i < READ_AHEAD; i++) readNext();
    let next = 0;
    for (const node of nodes) {
      assertSafeName(node.name, `tree ${tree}`);
      const child = rel.length === 0 ? node.name : Buffer.concat([rel, SLASH, node.name]);
      switch (node.type) {
        case 'dir':
          plan.dirs.push({ rel: child, node });
          if (node.subtree !== undefined) {
            readNext();
            await visit(node.subtree, ahead[next++]!, child);
          }
          break;
        case 'file':
          addFile(child, node);
          break;
        case 'symlink':
          plan.symlinks.push({ rel: child, node });
          break;
        default:
          plan.specials.push({ rel: child, node });
      }
    }
  };

  if ('tree' in root) {
    await visit(root.tree, read(root.tree), Buffer.alloc(0));
  } else {
    const { node } = root;
    assertSafeName(node.name, 'the requested path');
    if (node.type === 'dir') {
      plan.dirs.push({ rel: node.name, node });
      if (node.subtree !== undefined) await visit(node.subtree, read(node.subtree), node.name);
    } else if (node.type === 'file') addFile(node.name, node);
    else if (node.type === 'symlink') plan.symlinks.push({ rel: node.name, node });
    else plan.specials.push({ rel: node.name, node });
  }
  for (const [pack, blobs] of packs) {
    plan.packs.push({ pack, blobs: [...blobs.values()].sort((a, b) => a.entry.offset - b.entry.offset) });
  }
  return plan;
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
