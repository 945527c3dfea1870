// Trees read once per walk of many snapshots: consecutive snapshots share most of their trees
// (an unchanged folder is the same blob), so a walk over all of a site's snapshots reads each
// shared tree once instead of once per snapshot. The cache is bounded by a count of trees (each
// at most 16 MiB, most a few KiB) and simply cleared when full; a failed read is not remembered,
// so a later snapshot may ask again and fail on its own.
import type { BlobReader } from './blob-reader.ts';
import type { Hex64, Tree } from './types.ts';

export const TREE_CACHE_LIMIT = 50_000;

export function cachedTrees(reader: Pick<BlobReader, 'readTree'>, limit = TREE_CACHE_LIMIT): Pick<BlobReader, 'readTree'> {
  const cache = new Map<Hex64, Promise<Tree>>();
  return {
    readTree: (id) => {
      let tree = cache.get(id);
      if (tree === undefined) {
        if (cache.size >= limit) cache.clear();
        tree = reader.readTree(id);
        tree.catch(() => cache.delete(id));
        cache.set(id, tree);
      }
      return tree;
    },
  };
}
