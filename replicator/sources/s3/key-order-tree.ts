// Builds a bucket snapshot's trees while the objects arrive in key order, instead of gathering the
// whole listing first. The keys under a folder `k/` are neighbours in key order, so a folder is
// complete (and stored) as soon as a path outside it arrives: only the folders on the current path
// are open, each holding the nodes of its direct children so far. Memory is the widest folder on
// the path (a flat bucket of n objects still holds n root nodes until the end), never the bucket.
// A folder too wide for one tree blob is stored as pages (FORMAT.md section 6.1); only a folder
// past even that bound (over MAX_TREE_PAGES pages, ~200 million objects) is refused by name
// (code S3_FOLDER_TOO_WIDE).
import { GeorepError } from '../../../core/errors.ts';
import type { Hex64, TreeNode } from '../../../repository/types.ts';

export type FileNode = Omit<TreeNode, 'name'>;

export class KeyOrderTree {
  /** open[0] is the root; open[i] the folder named open[i].name inside open[i-1]. */
  private readonly open: { name: string; nodes: TreeNode[] }[] = [{ name: '', nodes: [] }];
  private stored = 0;

  private readonly store: (nodes: TreeNode[]) => Promise<Hex64>;
  /** The node for a finished folder. */
  private readonly dirNode: (name: string, subtree: Hex64) => TreeNode;

  constructor(store: (nodes: TreeNode[]) => Promise<Hex64>, dirNode: (name: string, subtree: Hex64) => TreeNode) {
    this.store = store;
    this.dirNode = dirNode;
  }

  /** Folders stored so far (the root excluded). */
  get dirs(): number {
    return this.stored;
  }

  /** Adds a file at stored path `segments`; paths must come in key order (each folder's paths together). */
  async add(segments: readonly string[], node: FileNode): Promise<void> {
    const dirs = segments.slice(0, -1);
    let depth = 0;
    while (depth < dirs.length && depth + 1 < this.open.length && this.open[depth + 1]!.name === dirs[depth]) depth++;
    await this.closeTo(depth + 1);
    for (const name of dirs.slice(depth)) this.open.push({ name, nodes: [] });
    this.open.at(-1)!.nodes.push({ name: Buffer.from(segments.at(-1)!, 'utf8'), ...node });
  }

  /** Stores every open folder and the root, with `rootExtra` (the sidecar) in it; returns the root tree's id. */
  async finish(rootExtra: readonly TreeNode[]): Promise<Hex64> {
    await this.closeTo(1);
    return this.storeDir([...this.open[0]!.nodes, ...rootExtra], '');
  }

  private async closeTo(length: number): Promise<void> {
    while (this.open.length > length) {
      const where = this.open.slice(1).map((d) => d.name).join('/');
      const dir = this.open.pop()!;
      const id = await this.storeDir(dir.nodes, where);
      this.stored++;
      this.open.at(-1)!.nodes.push(this.dirNode(dir.name, id));
    }
  }

  private async storeDir(nodes: TreeNode[], where: string): Promise<Hex64> {
    try {
      return await this.store(nodes);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new GeorepError('S3_FOLDER_TOO_WIDE', `folder ${JSON.stringify(where === '' ? '(the prefix itself)' : where)} holds ${nodes.length} entries and cannot be stored as a tree: ${err.message}`, {
        hint: 'snapshot it as several sources with narrower prefixes (a contract per prefix), or group its keys under sub-prefixes',
        cause: err,
      });
    }
  }
}
