// Reading a bucket snapshot (FORMAT.md section 11) without holding it whole: its sidecar is opened
// from the root tree and pulled a blob at a time, and each object's file is found in the tree by
// its recorded path with only the folders along the current path loaded (TreePaths). Records come
// in key order, and keys sharing a folder are neighbours in key order, so each folder's tree is
// read about once. Used by the next snapshot (parent objects), the restore into a bucket and the
// bucket drill.
import type { BlobReader } from './blob-reader.ts';
import { IntegrityError } from './errors.ts';
import { OBJECTS_FILES, openObjectsFile, type ObjectsReader } from './s3-objects.ts';
import type { Hex64, TreeNode } from './types.ts';

/**
 * The plaintexts of `ids`, in order (each authenticated by the reader), `ahead` of them read ahead
 * so that a large object's blobs at a remote site do not cost a round trip each in series; memory
 * is `ahead` blobs. Reads started ahead and not consumed (the caller stopped) are left to settle.
 */
export async function* blobStream(reader: BlobReader, ids: readonly Hex64[], ahead = 4): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const top = (): void => {
    while (next < ids.length && pending.length < ahead) {
      const p = reader.readBlob(ids[next++]!);
      p.catch(() => undefined); // awaited in turn
      pending.push(p);
    }
  };
  top();
  while (pending.length > 0) {
    const blob = await pending.shift()!;
    top();
    yield blob;
  }
}

export interface SnapshotObjects extends ObjectsReader {
  /** The sidecar's node in the root tree. */
  sidecar: TreeNode;
}

/** Opens the sidecar of the bucket snapshot whose root tree is `root`; an IntegrityError when the root holds none. */
export async function openSnapshotObjects(reader: BlobReader, root: Hex64): Promise<SnapshotObjects> {
  const nodes = (await reader.readTree(root)).nodes;
  for (const file of OBJECTS_FILES) {
    const node = nodes.find((n) => n.type === 'file' && n.name.toString('utf8') === file);
    if (node !== undefined) return { ...(await openObjectsFile(file, blobStream(reader, node.content ?? []))), sidecar: node };
  }
  throw new IntegrityError(`the bucket snapshot's root folder has no ${OBJECTS_FILES.join(' or ')}`);
}

/**
 * Finds nodes by stored path ('/'-joined names), keeping loaded only the folders along the last
 * path asked for: asking in key order reads each folder's tree about once, and memory is the
 * widest folder on the current path, not the snapshot.
 */
export class TreePaths {
  /** open[0] is the root; open[i] the folder named names[i-1] inside open[i-1]. */
  private readonly open: { name: string; nodes: Map<string, TreeNode> }[] = [];

  private readonly reader: BlobReader;
  private readonly root: Hex64;

  constructor(reader: BlobReader, root: Hex64) {
    this.reader = reader;
    this.root = root;
  }

  /** The node at `path`, or undefined when the tree has nothing there. */
  async find(path: string): Promise<TreeNode | undefined> {
    const names = path.split('/');
    const dirs = names.slice(0, -1);
    if (this.open.length === 0) this.open.push({ name: '', nodes: await this.load(this.root) });
    let depth = 0;
    while (depth < dirs.length && depth + 1 < this.open.length && this.open[depth + 1]!.name === dirs[depth]) depth++;
    this.open.length = depth + 1;
    for (const name of dirs.slice(depth)) {
      const node = this.open.at(-1)!.nodes.get(name);
      if (node === undefined || node.type !== 'dir' || node.subtree === undefined) return undefined;
      this.open.push({ name, nodes: await this.load(node.subtree) });
    }
    return this.open.at(-1)!.nodes.get(names.at(-1)!);
  }

  private async load(tree: Hex64): Promise<Map<string, TreeNode>> {
    return new Map((await this.reader.readTree(tree)).nodes.map((n) => [n.name.toString('utf8'), n]));
  }
}
