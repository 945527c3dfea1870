// Trees read once per walk of many snapshots: consecutive snapshots share most of their trees
// (an unchanged folder is the same blob), so a walk over all of a site's snapshots reads each
// shared tree once instead of once per snapshot. The cache is bounded by a count of trees (most a
// few KiB) and by a count of their nodes (a wide folder, FORMAT.md 6.1, is one tree of maybe
// millions of nodes, ~0.5 KiB each, and a changed one is a new tree per snapshot), and simply
// cleared when either is reached; a failed read is not remembered, so a later snapshot may ask
// again and fail on its own.
import type { BlobReader } from './blob-reader.ts';
import type { Hex64, Tree } from './types.ts';

export const TREE_CACHE_LIMIT = 50_000;
export const TREE_CACHE_NODES = 1_000_000;

export function cachedTrees(
  reader: Pick<BlobReader, 'readTree'>,
  limit = TREE_CACHE_LIMIT,
  nodeLimit = TREE_CACHE_NODES,
): Pick<BlobReader, 'readTree'> {
  const cache = new Map<Hex64, Promise<Tree>>();
  let nodes = 0;
  return {
    readTree: (id) => {
      let tree = cache.get(id);
      if (tree === undefined) {
        if (cache.size >= limit || nodes >= nodeLimit) {
          cache.clear();
          nodes = 0;
        }
        const read = reader.readTree(id);
        tree = read;
        read.then(
          (t) => {
            // Counted only while this read is still the cached one (not cleared meanwhile).
            if (cache.get(id) === read) nodes += t.nodes.length;
          },
          () => {
            if (cache.get(id) === read) cache.delete(id);
          },
        );
        cache.set(id, tree);
      }
      return tree;
    },
  };
}
