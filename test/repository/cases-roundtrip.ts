// Case 1: a tree with every feature comes back exactly, whole, as a sub-folder, and as one file.
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeTree } from '../fixtures/compare-trees.ts';
import { openLibrary, snapshotNodes } from './harness.ts';
import type { SuiteContext } from './roundtrip-suite.ts';
import { expectSameTree, join, NON_UTF8_DIR } from './trees.ts';

export function defineRoundTripCases(ctx: SuiteContext): void {
  describe('round trip', () => {
    it('restores every type, name, mode, owner, time and hard link exactly', async () => {
      const { georep, src, snap, tree } = await ctx.shared();
      const { features } = tree;
      expect(snap.problems).toEqual([]);
      expect(snap.snapshot.paths).toEqual([src]);

      const out = ctx.path('out');
      const restored = await georep.ok(['restore', snap.id, '--to', out]);
      expect(restored.stderr).toBe('');
      await expectSameTree(src, out);
      // The comparison covers these; check that the tree really had them.
      expect((await lstat(path.join(out, 'shelters/hard-b'))).ino).toBe((await lstat(path.join(out, 'hard-a'))).ino);
      expect((await lstat(join(out, NON_UTF8_DIR, 'link'))).isSymbolicLink()).toBe(true);
      expect((await lstat(join(out, 'n'.repeat(255)))).isFile()).toBe(true);
      expect((await lstat(path.join(out, 'setgid-tool'))).mode & 0o7777).toBe(0o2755);
      if (features.fifo) expect((await lstat(join(out, NON_UTF8_DIR, 'pipe'))).isFIFO()).toBe(true);
      if (features.owners) expect((await stat(path.join(out, 'shelters/registry.csv'))).uid).toBe(1234);

      // The summary counts what was stored: every data blob is new in a fresh repository.
      const lib = await openLibrary(georep.site);
      try {
        const packs = [...lib.index.packs()];
        const dataBytes = packs.filter((p) => p.type === 'data').flatMap((p) => p.blobs).reduce((n, b) => n + b.rawLength, 0);
        expect(snap.snapshot.summary.newBytes).toBe(dataBytes);
        expect(snap.snapshot.summary.storedBytes).toBe(packs.reduce((n, p) => n + p.size, 0));
        const files = [...(await snapshotNodes(lib, snap.snapshot.tree)).values()].filter((n) => n.type === 'file');
        expect(snap.snapshot.summary.files).toBe(files.length);
        expect(packs.filter((p) => p.type === 'data').length).toBeGreaterThan(3);
      } finally {
        await lib.close();
      }
    });

    it('restores one folder, and one file, under the target with their own names', async () => {
      const { georep, src, snap } = await ctx.shared();

      const sub = ctx.path('sub');
      await georep.ok(['restore', snap.id.slice(0, 8), '--to', sub, '--path', 'shelters/region-a']);
      expect(await readdir(sub)).toEqual(['region-a']);
      await expectSameTree(path.join(src, 'shelters/region-a'), path.join(sub, 'region-a'));
      const [want, got] = await Promise.all([lstat(path.join(src, 'shelters/region-a')), lstat(path.join(sub, 'region-a'))]);
      expect([got.mode, Math.trunc(got.mtimeMs)]).toEqual([want.mode, Math.trunc(want.mtimeMs)]);

      const one = ctx.path('one');
      await georep.ok(['restore', snap.id, '--to', one, '--path', 'shelters/registry.csv']);
      expect(await readdir(one)).toEqual(['registry.csv']);
      const key = `/${Buffer.from('registry.csv').toString('hex')}`;
      expect((await describeTree(one)).get(key)).toEqual((await describeTree(path.join(src, 'shelters'))).get(key));

      const missing = await georep.run(['restore', snap.id, '--to', ctx.path('none'), '--path', 'shelters/nope']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/not in the snapshot/);
    });
  });
}
