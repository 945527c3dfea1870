// Case 6: hostile trees (written with the key by a compromised or buggy writer) and hostile
// targets (symlinks planted where the restore will write). Whatever happens inside the target,
// nothing outside it is written, created or removed: a sentinel folder beside it stays as it was.
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Hex64 } from '../../repository/types.ts';
import { forgeSnapshot, type ForgedNode } from './forge.ts';
import { newRepository, openLibrary, type Georep } from './harness.ts';
import type { SuiteContext } from './roundtrip-suite.ts';
import { fileContents } from './trees.ts';

interface Box {
  target: string;
  sentinel: string;
  /** Fails unless the box holds only the target and the sentinel, and the sentinel is as made. */
  expectUntouched(): Promise<void>;
}

const PRECIOUS = { 'registry.csv': 'precious\n', victim: 'precious too\n' };

async function makeBox(dir: string): Promise<Box> {
  const sentinel = path.join(dir, 'sentinel');
  await mkdir(sentinel, { recursive: true });
  for (const [name, text] of Object.entries(PRECIOUS)) await writeFile(path.join(sentinel, name), text);
  return {
    target: path.join(dir, 'target'),
    sentinel,
    async expectUntouched() {
      expect((await readdir(dir)).filter((n) => n !== 'target')).toEqual(['sentinel']);
      const inside = await fileContents(sentinel);
      expect(Object.fromEntries([...inside].map(([k, v]) => [k, v.toString()]))).toEqual(PRECIOUS);
      expect(await readdir(sentinel)).toHaveLength(2);
    },
  };
}

export function defineHostileCases(ctx: SuiteContext): void {
  describe('hostile trees and targets', () => {
    let georep: Georep;
    let legit: Hex64;
    let src: string;

    beforeAll(async () => {
      src = ctx.path('src');
      await mkdir(path.join(src, 'shelters/deep'), { recursive: true });
      await writeFile(path.join(src, 'shelters/registry.csv'), 'restored\n');
      await writeFile(path.join(src, 'shelters/deep/note.txt'), 'deep\n');
      await writeFile(path.join(src, 'top.txt'), 'top\n');
      georep = await newRepository(ctx.makeSite, ctx.path('home'));
      legit = (await georep.snapshot(src)).id;
    });

    const forge = async (...trees: ForgedNode[][]): Promise<Hex64[]> => {
      const lib = await openLibrary(georep.site);
      try {
        const ids: Hex64[] = [];
        for (const nodes of trees) ids.push(await forgeSnapshot(lib, nodes));
        return ids;
      } finally {
        await lib.close();
      }
    };

    const escapes = (box: string): [string, ForgedNode[], RegExp][] => [
      ['..', [{ name: '..', type: 'dir', children: [{ name: 'escaped', type: 'file', data: 'pwned' }] }], /name is "\.\."/],
      ['a/b', [{ name: '../sentinel/pwned', type: 'file', data: 'pwned' }], /name holds "\/"/],
      ['NUL', [{ name: 'a\0b', type: 'file', data: 'pwned' }], /name holds NUL/],
      ['absolute', [{ name: path.join(box, 'sentinel/pwned'), type: 'file', data: 'pwned' }], /name holds "\/"/],
      [
        'a folder under a symlink of the same name',
        [
          { name: 'link', type: 'symlink', target: path.join(box, 'sentinel') },
          { name: 'link', type: 'dir', children: [{ name: 'registry.csv', type: 'file', data: 'pwned' }] },
        ],
        /second node of that name/,
      ],
      [
        'a symlink after a folder of the same name',
        [
          { name: 'link', type: 'dir', children: [{ name: 'victim', type: 'file', data: 'pwned' }] },
          { name: 'link', type: 'symlink', target: path.join(box, 'sentinel') },
        ],
        /second node of that name/,
      ],
    ];

    it('refuses trees with names that leave the target, and writes nothing', async () => {
      // Absolute names and link targets point into the box's sentinel: one box each.
      const dirs = escapes('').map(() => ctx.path('box'));
      const forged = await forge(...dirs.map((dir, i) => escapes(dir)[i]![1]));
      for (let i = 0; i < dirs.length; i++) {
        const box = await makeBox(dirs[i]!);
        const [what, , message] = escapes(dirs[i]!)[i]!;
        const result = await georep.run(['restore', forged[i]!, '--to', box.target]);
        expect(result.code, what).toBe(1);
        expect(result.stderr, what).toMatch(message);
        expect(result.stderr, what).toMatch(/data\/[0-9a-f]{2}\/[0-9a-f]{64}/);
        expect(await readdir(box.target), what).toEqual([]);
        await box.expectUntouched();
      }
    });

    it('refuses a --path that climbs out of the snapshot', async () => {
      const box = await makeBox(ctx.path('box'));
      for (const sub of ['..', '../sentinel', 'shelters/../../sentinel']) {
        const result = await georep.run(['restore', legit, '--to', box.target, '--path', sub]);
        expect(result.code, sub).toBe(2);
        expect(result.stderr).toMatch(/must not contain '\.\.'/);
      }
      await box.expectUntouched();
    });

    describe('symlinks planted in the target', () => {
      const plant = async (): Promise<Box> => {
        const box = await makeBox(ctx.path('box'));
        await mkdir(box.target);
        await symlink(box.sentinel, path.join(box.target, 'shelters'));
        await symlink(path.join(box.sentinel, 'victim'), path.join(box.target, 'top.txt'));
        return box;
      };

      it('--overwrite never leaves them, restores nothing through them, and reports it', async () => {
        const box = await plant();
        const result = await georep.run(['restore', legit, '--to', box.target]);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^error: shelters: something other than a folder is there/m);
        expect(await readlink(path.join(box.target, 'shelters'))).toBe(box.sentinel);
        expect((await lstat(path.join(box.target, 'top.txt'))).isSymbolicLink()).toBe(true);
        await box.expectUntouched();
      });

      it('--overwrite if-changed replaces a planted file link but not a planted folder link', async () => {
        const box = await plant();
        const result = await georep.run(['restore', legit, '--to', box.target, '--overwrite', 'if-changed']);
        expect(result.code).toBe(1);
        expect(await readFile(path.join(box.target, 'top.txt'), 'utf8')).toBe('top\n');
        expect((await lstat(path.join(box.target, 'top.txt'))).isFile()).toBe(true);
        expect((await lstat(path.join(box.target, 'shelters'))).isSymbolicLink()).toBe(true);
        await box.expectUntouched();
      });

      it('--overwrite always replaces them with the real folder and file', async () => {
        const box = await plant();
        const result = await georep.run(['restore', legit, '--to', box.target, '--overwrite', 'always']);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(Object.fromEntries([...(await fileContents(box.target))].map(([k, v]) => [k, v.toString()]))).toEqual({
          'shelters/deep/note.txt': 'deep\n',
          'shelters/registry.csv': 'restored\n',
          'top.txt': 'top\n',
        });
        await box.expectUntouched();
      });

      it('a restore over an earlier one that left a symlink does not write through it', async () => {
        const box = await makeBox(ctx.path('box'));
        const [linked] = await forge([{ name: 'shelters', type: 'symlink', target: box.sentinel }]);
        await georep.ok(['restore', linked!, '--to', box.target]);
        expect(await readlink(path.join(box.target, 'shelters'))).toBe(box.sentinel);
        const result = await georep.run(['restore', legit, '--to', box.target]);
        expect(result.code).toBe(1);
        await box.expectUntouched();
      });
    });
  });
}
