// Cases 2 and 3: deduplication (an unchanged tree stores nothing, with or without the change
// cache) and incremental snapshots (a few changes store a few chunks, and every snapshot still
// restores to its own tree).
import { appendFile, open, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { changeCacheDir } from '../../cli/home.ts';
import { snapshotDirectory } from '../../replicator/snapshot/snapshot-directory.ts';
import { describeTree, treeDifferences } from '../fixtures/compare-trees.ts';
import { newRepository, objects, openLibrary, type Georep } from './harness.ts';
import type { SuiteContext } from './roundtrip-suite.ts';
import { expectSameTree, richTree } from './trees.ts';

/** A snapshot through the library, to see its walk statistics (the CLI prints only the summary). */
async function librarySnapshot(georep: Georep, src: string) {
  const lib = await openLibrary(georep.site);
  try {
    return await snapshotDirectory({
      repo: lib.repo,
      index: lib.index,
      source: src,
      cacheDir: changeCacheDir({ GEOREP_HOME: georep.home }),
      clock: systemClock,
      host: os.hostname(),
      user: 'test',
      program: 'georep-test',
    });
  } finally {
    await lib.close();
  }
}

export function defineChangeCases(ctx: SuiteContext): void {
  describe('deduplication', () => {
    it('stores nothing new for an unchanged tree, with the change cache and without it', async () => {
      const { georep, src, snap: first } = await ctx.shared();
      const data = await objects(georep.site, 'data/');
      const indexes = await objects(georep.site, 'index/');
      expect(first.snapshot.summary.newBytes).toBeGreaterThan(300_000);

      const second = await georep.snapshot(src);
      expect(second.snapshot.summary).toMatchObject({ newBytes: 0, storedBytes: 0, files: first.snapshot.summary.files });
      expect(second.snapshot.tree).toBe(first.snapshot.tree);
      expect(second.snapshot.parent).toBe(first.id);
      expect(await objects(georep.site, 'data/')).toEqual(data);
      expect(await objects(georep.site, 'index/')).toEqual(indexes);

      // With the cache, nothing is read; without it every file is read, and still nothing is new.
      const warm = await librarySnapshot(georep, src);
      expect(warm.stats.unchanged).toBe(first.snapshot.summary.files);
      await rm(georep.home, { recursive: true, force: true });
      const cold = await librarySnapshot(georep, src);
      expect(cold.stats.unchanged).toBe(0);
      expect(cold.stats.files).toBe(first.snapshot.summary.files);
      expect(cold.manifest.summary).toMatchObject({ newBytes: 0, storedBytes: 0 });
      expect(cold.packs).toEqual([]);
      expect(cold.manifest.tree).toBe(first.snapshot.tree);
      expect(await objects(georep.site, 'data/')).toEqual(data);
      expect(await objects(georep.site, 'index/')).toEqual(indexes);
    });
  });

  describe('incremental snapshots', () => {
    it('store only the changed chunks, restore each to its own tree, and diff exactly', async () => {
      const src = ctx.path('src');
      await richTree(src, 1_000_000);
      const georep = await newRepository(ctx.makeSite, ctx.path('home'));
      const first = await georep.snapshot(src);
      const before = await describeTree(src);
      const lib = await openLibrary(georep.site);
      const known = new Set([...lib.index.packs()].flatMap((p) => p.blobs.map((b) => b.id)));
      await lib.close();

      // One file changed in the middle, one appended to, one added, one deleted.
      const fh = await open(path.join(src, 'shelters/region-a/big.bin'), 'r+');
      await fh.write(Buffer.from('changed in the middle'), 0, 21, 500_000);
      await fh.close();
      await appendFile(path.join(src, 'shelters/region-a/text.csv'), '\n4000,appended,1');
      await writeFile(path.join(src, 'added.txt'), 'a new file\n');
      await unlink(path.join(src, 'secret.key'));
      const second = await georep.snapshot(src);
      expect(second.snapshot.parent).toBe(first.id);

      const after = await openLibrary(georep.site);
      const data = [...after.index.packs()].filter((p) => p.type === 'data').flatMap((p) => p.blobs);
      await after.close();
      const fresh = data.filter((b) => !known.has(b.id));
      expect(data.length).toBeGreaterThan(50);
      expect(fresh.length).toBeGreaterThanOrEqual(3);
      expect(fresh.length).toBeLessThanOrEqual(8);
      expect(second.snapshot.summary.newBytes).toBe(fresh.reduce((n, b) => n + b.rawLength, 0));
      expect(second.snapshot.summary.newBytes).toBeLessThan(first.snapshot.summary.bytes / 5);

      const newOut = ctx.path('new');
      await georep.ok(['restore', second.id, '--to', newOut]);
      await expectSameTree(src, newOut);
      const oldOut = ctx.path('old');
      await georep.ok(['restore', first.id, '--to', oldOut]);
      expect(treeDifferences(before, await describeTree(oldOut))).toEqual([]);

      const diff = await georep.ok(['diff', first.id, second.id, '--json']);
      const { changes, stats } = JSON.parse(diff.stdout) as { changes: { kind: string; path: string }[]; stats: object };
      expect(changes.map((c) => `${c.kind} ${c.path}`).sort()).toEqual([
        'added /added.txt',
        'modified /shelters/region-a/big.bin',
        'modified /shelters/region-a/text.csv',
        'removed /secret.key',
      ]);
      expect(stats).toEqual({ added: 1, removed: 1, modified: 2, metadata: 0, type: 0 });
      const text = await georep.ok(['diff', first.id.slice(0, 10), 'latest']);
      expect(text.stdout).toMatch(/^\+ {2}\/added\.txt$/m);
      expect(text.stdout).toMatch(/^- {2}\/secret\.key$/m);
      expect(text.stdout).toMatch(/1 added, 1 removed, 2 modified/);
    });
  });
}
