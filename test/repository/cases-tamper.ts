// Cases 4 and 5: objects damaged at the site by someone without the key (a flipped bit, a cut
// pack, two packs swapped, two blobs moved), and a wrong password. Each restore names the object,
// exits non-zero, writes not one byte of a damaged blob, leaves no half-written file, and
// restores every file that does not need the damage.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededBytes } from '../fixtures/tree-gen.ts';
import type { Hex64, PackDescription, TreeNode } from '../../repository/types.ts';
import { newRepository, objects, openLibrary, PASSWORD, snapshotNodes, type Georep } from './harness.ts';
import type { SuiteContext } from './roundtrip-suite.ts';
import { dataTree, exists, fileContents } from './trees.ts';

const packKey = (id: Hex64): string => `data/${id.slice(0, 2)}/${id}`;

function flipBit(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x10;
  return copy;
}

export function defineTamperCases(ctx: SuiteContext): void {
  describe('damage at the site', () => {
    let georep: Georep;
    let src: string;
    let snapshotId: Hex64;
    let files: Map<string, TreeNode>;
    let packs: PackDescription[];
    /** Plaintext of every data blob. */
    const plain = new Map<Hex64, Buffer>();

    beforeAll(async () => {
      src = ctx.path('src');
      await dataTree(src, 10, 40_000);
      // Files below the minimum chunk size are one blob each, of equal length: movable bytes.
      await mkdir(path.join(src, 'small'));
      for (let i = 0; i < 16; i++) await writeFile(path.join(src, `small/s${i}`), seededBytes(`small${i}`, 3000));
      georep = await newRepository(ctx.makeSite, ctx.path('home'));
      snapshotId = (await georep.snapshot(src)).id;
      const lib = await openLibrary(georep.site);
      try {
        const manifest = (await lib.repo.loadObject('snapshot', snapshotId)) as { tree: Hex64 };
        const nodes = await snapshotNodes(lib, manifest.tree);
        files = new Map([...nodes].filter(([, n]) => n.type === 'file'));
        packs = [...lib.index.packs()];
        // A blob's plaintext is the piece of its source file at the sum of the chunks before it.
        const source = await fileContents(src);
        for (const [p, node] of files) {
          let offset = 0;
          for (const id of node.content ?? []) {
            const length = lib.index.lookup(id)!.entry.rawLength;
            plain.set(id, source.get(p)!.subarray(offset, offset + length));
            offset += length;
          }
        }
      } finally {
        await lib.close();
      }
    });

    const dataPacks = (): PackDescription[] => packs.filter((p) => p.type === 'data');

    /** Applies `damage` to the site's objects, runs `check`, and puts the original bytes back. */
    async function withDamage(keys: string[], damage: (bytes: Buffer[]) => Buffer[], check: () => Promise<void>): Promise<void> {
      const originals = await Promise.all(keys.map((k) => georep.site.raw.get(k)));
      const damaged = damage(originals);
      for (let i = 0; i < keys.length; i++) await georep.site.raw.put(keys[i]!, damaged[i]!);
      try {
        await check();
      } finally {
        for (let i = 0; i < keys.length; i++) await georep.site.raw.put(keys[i]!, originals[i]!);
      }
    }

    /**
     * Restores and checks that exactly the files needing `blobs` are missing, each with a problem
     * naming a damaged object, and every other file is exact.
     */
    async function expectContained(blobs: Set<Hex64>, objectNames: string[]): Promise<void> {
      const out = ctx.path('out');
      const result = await georep.run(['restore', snapshotId, '--to', out, '--json']);
      expect(result.code).toBe(1);
      const { problems } = JSON.parse(result.stdout) as { problems: { path: string; message: string }[] };
      const affected = [...files].filter(([, n]) => (n.content ?? []).some((id) => blobs.has(id))).map(([p]) => p);
      expect(affected.length).toBeGreaterThan(0);
      expect(affected.length).toBeLessThan(files.size / 2);
      expect(problems.map((p) => p.path).sort()).toEqual([...affected].sort());
      for (const p of problems) expect(objectNames.some((name) => p.message.includes(name)), p.message).toBe(true);
      for (const name of objectNames) expect(problems.some((p) => p.message.includes(name)), name).toBe(true);
      const source = await fileContents(src);
      const restored = await fileContents(out);
      for (const [p, bytes] of source) {
        if (affected.includes(p)) {
          expect(restored.has(p), `${p} needs damaged data and must be absent`).toBe(false);
        } else {
          expect(restored.get(p)?.equals(bytes), `${p} must be restored exactly`).toBe(true);
        }
      }
      for (const id of blobs) {
        for (const [p, bytes] of restored) expect(bytes.includes(plain.get(id)!), `${p} holds damaged plaintext`).toBe(false);
      }
    }

    it('a flipped bit fails only the files of that blob', async () => {
      const pack = dataPacks().find((p) => p.blobs.length >= 3)!;
      const blob = pack.blobs[1]!;
      await withDamage(
        [packKey(pack.id)],
        ([bytes]) => [flipBit(bytes!, blob.offset + (blob.storedLength >> 1))],
        async () => {
          await expectContained(new Set([blob.id]), [packKey(pack.id)]);
          const text = await georep.run(['restore', snapshotId, '--to', ctx.path('out')]);
          expect(text.code).toBe(1);
          expect(text.stderr).toMatch(new RegExp(`^error: .*${packKey(pack.id)}: blob ${blob.id} does not authenticate`, 'm'));
        },
      );
    });

    it('a truncated pack fails the files that need it', async () => {
      const pack = dataPacks()[0]!;
      await withDamage(
        [packKey(pack.id)],
        ([bytes]) => [bytes!.subarray(0, bytes!.length >> 1)],
        () => expectContained(new Set(pack.blobs.map((b) => b.id)), [packKey(pack.id)]),
      );
    });

    it('two packs swapped fail the files of both', async () => {
      const [a, b] = dataPacks().slice(1, 3) as [PackDescription, PackDescription];
      await withDamage(
        [packKey(a.id), packKey(b.id)],
        ([x, y]) => [y!, x!],
        () => expectContained(new Set([...a.blobs, ...b.blobs].map((e) => e.id)), [packKey(a.id), packKey(b.id)]),
      );
    });

    it('two blobs of one pack swapped (moved and relabelled without the key) are refused', async () => {
      // Two whole, well-formed sealed blobs of the same length, exchanged: only the nonce (their
      // offset) and the label (their id) in the additional data tell them apart.
      let found: [PackDescription, number, number] | undefined;
      for (const p of dataPacks()) {
        for (let i = 0; i < p.blobs.length && found === undefined; i++) {
          const j = p.blobs.findIndex((b, k) => k > i && b.storedLength === p.blobs[i]!.storedLength);
          if (j > 0) found = [p, i, j];
        }
      }
      expect(found, 'a pack with two blobs of equal length').toBeDefined();
      const [pack, i, j] = found!;
      const [x, y] = [pack.blobs[i]!, pack.blobs[j]!];
      await withDamage(
        [packKey(pack.id)],
        ([bytes]) => {
          const copy = Buffer.from(bytes!);
          bytes!.copy(copy, x.offset, y.offset, y.offset + y.storedLength);
          bytes!.copy(copy, y.offset, x.offset, x.offset + x.storedLength);
          return [copy];
        },
        () => expectContained(new Set([x.id, y.id]), [packKey(pack.id)]),
      );
    });

    it('a damaged tree pack fails the restore before anything is written', async () => {
      const pack = packs.find((p) => p.type === 'tree')!;
      await withDamage(
        [packKey(pack.id)],
        ([bytes]) => [flipBit(bytes!, 3)],
        async () => {
          const out = ctx.path('out');
          const result = await georep.run(['restore', snapshotId, '--to', out]);
          expect(result.code).toBe(1);
          expect(result.stderr).toContain(packKey(pack.id));
          expect(await readdir(out).catch(() => [])).toEqual([]);
        },
      );
    });

    it('a wrong password exits 2 with a clear message and writes nothing', async () => {
      const out = ctx.path('out');
      const before = await objects(georep.site, '');
      for (const args of [
        ['restore', 'latest', '--to', out],
        ['snapshot', src],
        ['ls', 'latest'],
      ]) {
        const result = await georep.run(args, { GEOREP_PASSWORD: `not-${PASSWORD}` });
        expect(result.code, args[0]).toBe(2);
        expect(result.stderr).toMatch(/^georep: wrong password/m);
        expect(result.stdout).toBe('');
      }
      expect(await exists(out)).toBe(false);
      expect(await objects(georep.site, '')).toEqual(before);
    });
  });
}
