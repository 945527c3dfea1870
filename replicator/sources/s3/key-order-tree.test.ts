import { describe, expect, it } from 'vitest';
import type { Hex64, TreeNode } from '../../../repository/types.ts';
import { KeyOrderTree, type FileNode } from './key-order-tree.ts';

/** Trees kept by id (the id names the folder's content), so the result can be read back. */
function world(): { tree: KeyOrderTree; trees: Map<string, TreeNode[]>; order: string[] } {
  const trees = new Map<string, TreeNode[]>();
  const order: string[] = [];
  const tree = new KeyOrderTree(
    (nodes) => {
      const id = `t${trees.size}`;
      trees.set(id, nodes);
      order.push(nodes.map((n) => n.name.toString()).join(','));
      return Promise.resolve(id as Hex64);
    },
    (name, subtree) => ({ name: Buffer.from(name), type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: 0n, subtree }),
  );
  return { tree, trees, order };
}

const file: FileNode = { type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size: 0, content: [] };

describe('KeyOrderTree', () => {
  it('stores each folder as soon as the paths leave it, deepest first, and nests them', async () => {
    const { tree, trees, order } = world();
    for (const p of ['a%', 'a/b/c', 'a/b/d', 'a/e', 'a-x', 'z/y']) await tree.add(p.split('/'), file);
    // a/b closed when a/e arrived; a when a-x arrived; z at the end.
    expect(order).toEqual(['c,d', 'b,e']);
    const root = await tree.finish([{ ...file, name: Buffer.from('sidecar') }]);
    expect(order.at(-1)).toBe('a%,a,a-x,z,sidecar');
    const names = (id: string): string[] => trees.get(id)!.map((n) => n.name.toString());
    const sub = (id: string, name: string): string => trees.get(id)!.find((n) => n.name.toString() === name)!.subtree!;
    expect(names(sub(sub(root, 'a'), 'b'))).toEqual(['c', 'd']);
    expect(names(sub(root, 'z'))).toEqual(['y']);
    expect(tree.dirs).toBe(3);
  });
});
