import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GeorepError } from '../../core/errors.ts';
import { ChangeCache } from './change-cache.ts';
import type { ChunkedFile, ChunkerPool } from './chunker-pool.ts';
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

  // The chunking pool is this module's own seam: a stand-in decides when each file is done.
  async function withTree(files: string[], run: (dir: string, cache: ChangeCache) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-builder-'));
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'georep-builder-cache-'));
    for (const f of files) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), f);
    }
    const cache = await ChangeCache.load(cacheDir, 'a'.repeat(64), dir);
    try {
      await run(dir, cache);
    } finally {
      await cache.close();
      await rm(dir, { recursive: true, force: true });
      await rm(cacheDir, { recursive: true, force: true });
    }
  }

  it('hands out the next folder\'s files while one folder\'s files are still being read', { timeout: 15_000 }, async () => {
    await withTree(['a/slow', 'b/next'], async (dir, cache) => {
      const asked: string[] = [];
      let waitedInVain: boolean | undefined;
      let nextAsked: () => void = () => undefined;
      const nextWasAsked = new Promise<void>((resolve) => (nextAsked = resolve));
      const pool = {
        async chunkFile(p: Buffer, size: number): Promise<ChunkedFile> {
          const name = path.relative(dir, p.toString());
          asked.push(name);
          if (name === 'b/next') nextAsked();
          // a/slow is done only once b/next was handed out; a walk that waits for a folder's
          // files before listing the next one never hands it out (given up on after 5 s).
          else waitedInVain = await Promise.race([nextWasAsked.then(() => false), delay(5000).then(() => true)]);
          return { content: [], size, newBytes: 0 };
        },
      } as unknown as ChunkerPool;
      const stored: string[][] = [];
      const builder = new TreeBuilder({
        pool,
        cache,
        isKnown: () => false,
        storeTree: (nodes) => {
          stored.push(nodes.map((n) => n.name.toString()));
          return Promise.resolve('b'.repeat(64));
        },
      });
      await builder.buildDir(Buffer.from(dir));
      expect(waitedInVain).toBe(false);
      expect(asked).toEqual(['a/slow', 'b/next']);
      // Each folder's tree once its files are done (b before a here), the root's last.
      expect(stored).toEqual([['next'], ['slow'], ['a', 'b']]);
      expect(builder.stats.files).toBe(2);
    });
  });

  it('stops the walk at the first failed file and rejects with its error, nothing unhandled', async () => {
    const files = Array.from({ length: 40 }, (_, i) => `d${String(i).padStart(2, '0')}/f`);
    await withTree(files, async (dir, cache) => {
      let asked = 0;
      const storeFailed = new Error('site refused the pack');
      const pool = {
        chunkFile(): Promise<ChunkedFile> {
          asked++;
          return Promise.reject(storeFailed);
        },
      } as unknown as ChunkerPool;
      const builder = new TreeBuilder({ pool, cache, isKnown: () => false, storeTree: () => Promise.resolve('b'.repeat(64)) });
      await expect(builder.buildDir(Buffer.from(dir))).rejects.toBe(storeFailed);
      expect(asked).toBeGreaterThan(0);
      expect(asked).toBeLessThan(files.length);
    });
  });
});
