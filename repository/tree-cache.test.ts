import { describe, expect, it } from 'vitest';
import { cachedTrees } from './tree-cache.ts';
import type { Hex64, Tree, TreeNode } from './types.ts';

/** A reader of synthetic trees: tree `<n>...` has n nodes; counts its reads. */
function reader(): { readTree(id: Hex64): Promise<Tree>; reads: Hex64[] } {
  const reads: Hex64[] = [];
  return {
    reads,
    readTree: (id) => {
      reads.push(id);
      if (id.startsWith('bad')) return Promise.reject(new Error(`no ${id}`));
      const count = Number.parseInt(id, 10);
      return Promise.resolve({ nodes: Array.from({ length: count }, (): TreeNode => ({ name: Buffer.from('x'), type: 'fifo', mode: 0, uid: 0, gid: 0, mtimeNs: 0n })) });
    },
  };
}

describe('cachedTrees', () => {
  it('reads a tree once while it stays cached', async () => {
    const r = reader();
    const trees = cachedTrees(r);
    await trees.readTree('3' as Hex64);
    await trees.readTree('3' as Hex64);
    expect(r.reads).toEqual(['3']);
  });

  it('is cleared once the cached trees hold the node limit (wide folders), not only by tree count', async () => {
    const r = reader();
    const trees = cachedTrees(r, 1000, 100);
    await trees.readTree('60' as Hex64);
    await trees.readTree('50' as Hex64); // 110 nodes cached: the next miss clears
    await trees.readTree('60' as Hex64);
    expect(r.reads).toEqual(['60', '50']);
    await trees.readTree('7' as Hex64);
    await trees.readTree('60' as Hex64);
    expect(r.reads).toEqual(['60', '50', '7', '60']);
  });

  it('does not remember a failed read', async () => {
    const r = reader();
    const trees = cachedTrees(r);
    await expect(trees.readTree('bad1' as Hex64)).rejects.toThrow('no bad1');
    await expect(trees.readTree('bad1' as Hex64)).rejects.toThrow('no bad1');
    expect(r.reads).toEqual(['bad1', 'bad1']);
  });
});
