import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GeorepError } from '../../core/errors.ts';
import { ChangeCache } from './change-cache.ts';
import type { ChunkerPool } from './chunker-pool.ts';
import { TreeBuilder } from './tree-builder.ts';

describe('TreeBuilder', () => {
  it('names the folder when its tree cannot be stored at all (not a bare RangeError)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-builder-'));
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'georep-builder-cache-'));
    const cache = await ChangeCache.load(cacheDir, 'a'.repeat(64), dir);
    try {
      const builder = new TreeBuilder({
        // An empty folder reads no file: the pool is never asked.
        pool: {} as ChunkerPool,
        cache,
        isKnown: () => false,
        // What the tree store throws for a node alone over the tree bound.
        storeTree: () => Promise.reject(new RangeError('tree node "disk.img" alone is over 16777216 bytes')),
      });
      const err = await builder.buildDir(Buffer.from(dir)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GeorepError);
      expect((err as GeorepError).code).toBe('SNAPSHOT_TREE_TOO_LARGE');
      expect((err as Error).message).toContain(JSON.stringify(dir));
      expect((err as Error).message).toContain('"disk.img" alone is over');
    } finally {
      await cache.close();
      await rm(dir, { recursive: true, force: true });
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
