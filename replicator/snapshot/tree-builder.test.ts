import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { GeorepError } from '../../core/errors.ts';
import { ChangeCache, type FileFacts } from './change-cache.ts';
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
  async function withTree(files: string[], run: (dir: string, cache: ChangeCache, cacheDir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-builder-'));
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'georep-builder-cache-'));
    for (const f of files) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), f);
    }
    const cache = await ChangeCache.load(cacheDir, 'a'.repeat(64), dir);
    try {
      await run(dir, cache, cacheDir);
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

  // Two runs over one tree: the first records every file in the change cache; between them
  // `change` rewrites some files, which the second run must read again.
  async function secondRun(
    files: string[],
    change: (name: string) => boolean,
    run: (dir: string, cache: ChangeCache) => Promise<void>,
  ): Promise<void> {
    await withTree(files, async (dir, first, cacheDir) => {
      const chunkAll = { chunkFile: (_p: Buffer, size: number) => Promise.resolve({ content: ['c'.repeat(64)], size, newBytes: 0 }) } as unknown as ChunkerPool;
      await new TreeBuilder({ pool: chunkAll, cache: first, isKnown: () => true, storeTree: () => Promise.resolve('b'.repeat(64)) }).buildDir(Buffer.from(dir));
      await first.save();
      for (const f of files.filter(change)) await writeFile(path.join(dir, f), `${f} changed`);
      const cache = await ChangeCache.load(cacheDir, 'a'.repeat(64), dir);
      try {
        await run(dir, cache);
      } finally {
        await cache.close();
      }
    });
  }

  /** A pool that holds every file until `release()`; `asked` counts the files handed to it. */
  function heldPool(): { pool: ChunkerPool; asked: () => number; release: () => void } {
    let asked = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const pool = {
      async chunkFile(_p: Buffer, size: number): Promise<ChunkedFile> {
        asked++;
        await released;
        return { content: ['d'.repeat(64)], size, newBytes: size };
      },
    } as unknown as ChunkerPool;
    return { pool, asked: () => asked, release };
  }

  const names = (n: number, name: (i: number) => string[]): string[] => Array.from({ length: n }, (_, i) => name(i)).flat();
  const pad = (i: number): string => String(i).padStart(3, '0');

  it('walks on through unchanged files while the files it must read wait for the workers', { timeout: 15_000 }, async () => {
    // 100 unchanged files, then 80 changed ones (more than the workers take at once), each
    // followed by three unchanged ones, then 100 more unchanged.
    const files = [...names(100, (i) => [`a/${pad(i)}`]), ...names(80, (i) => [`b/${pad(i)}-0`, `b/${pad(i)}-1`, `b/${pad(i)}-2`, `b/${pad(i)}-3`]), ...names(100, (i) => [`c/${pad(i)}`])];
    await secondRun(files, (f) => f.endsWith('-0'), async (dir, cache) => {
      const { pool, asked, release } = heldPool();
      let unchangedWhileHeld = 0;
      const builder = new TreeBuilder({
        pool,
        cache,
        isKnown: () => true,
        storeTree: () => Promise.resolve('b'.repeat(64)),
        onProgress: (stats) => {
          if (asked() > 0) unchangedWhileHeld = stats.unchanged;
        },
      });
      const built = builder.buildDir(Buffer.from(dir));
      // Every unchanged file is walked while no changed file is done; the old walk stopped at
      // the first changed file that found the workers' places taken.
      await vi.waitFor(() => expect(unchangedWhileHeld).toBe(files.length - 80), { timeout: 10_000 });
      expect(asked()).toBe(64);
      release();
      await built;
      expect(asked()).toBe(80);
      expect(builder.stats).toMatchObject({ files: files.length, unchanged: files.length - 80 });
    });
  });

  it('does not run ahead of the workers through files it must read (a first snapshot)', { timeout: 15_000 }, async () => {
    const files = names(200, (i) => [`a/${pad(i)}`]);
    await secondRun(files, () => true, async (dir, cache) => {
      const { pool, asked, release } = heldPool();
      let visited = 0;
      const counting = { visit: (p: Buffer, facts: FileFacts) => (visited++, cache.visit(p, facts)) } as unknown as ChangeCache;
      const builder = new TreeBuilder({ pool, cache: counting, isKnown: () => true, storeTree: () => Promise.resolve('b'.repeat(64)) });
      const built = builder.buildDir(Buffer.from(dir));
      await vi.waitFor(() => expect(asked()).toBe(64), { timeout: 10_000 });
      await delay(50);
      // The walk waits at the 65th file for a place: it has not met the files after it.
      expect(visited).toBeLessThanOrEqual(65);
      release();
      await built;
      expect(visited).toBe(200);
    });
  });

  it('gives the event loop a turn now and then while it walks unchanged files', { timeout: 15_000 }, async () => {
    const files = names(2000, (i) => [`d${i % 10}/${String(i).padStart(4, '0')}`]);
    await secondRun(files, () => false, async (dir, cache) => {
      const { pool } = heldPool();
      let walkedAtTurn: number | undefined;
      const builder = new TreeBuilder({ pool, cache, isKnown: () => true, storeTree: () => Promise.resolve('b'.repeat(64)) });
      setImmediate(() => (walkedAtTurn = builder.stats.unchanged));
      await builder.buildDir(Buffer.from(dir));
      // Answers to the workers and stored packs are handled in such turns: a walk that never
      // waited for I/O used to starve them until its end.
      expect(walkedAtTurn).toBeLessThan(files.length);
      expect(builder.stats.unchanged).toBe(files.length);
    });
  });
});
