// Case 8: the listing commands (`snapshots`, `ls`, their --json shapes), `restore latest`, and
// what --overwrite never | if-changed | always do to a target that already holds files.
import { mkdir, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from './roundtrip-suite.ts';
import { expectSameTree } from './trees.ts';

interface LsEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: string;
  size?: number;
  target?: string;
}

export function defineCommandCases(ctx: SuiteContext): void {
  describe('commands', () => {
    it('list snapshots and their files, and restore latest', async () => {
      const { georep, src, snap: first } = await ctx.shared();
      // A second snapshot, of another folder: the shared source stays as it is.
      const other = ctx.path('other');
      await mkdir(other);
      await writeFile(path.join(other, 'later.txt'), 'later\n');
      const second = await georep.snapshot(other);

      const listed = JSON.parse((await georep.ok(['snapshots', '--json'])).stdout) as {
        snapshots: { id: string; paths: string[]; parent: string | null; tree: string; summary: { files: number } }[];
        problems: unknown[];
      };
      expect(listed.problems).toEqual([]);
      expect(listed.snapshots.at(-1)).toMatchObject({ id: second.id, paths: [other], parent: null, summary: { files: 1 } });
      expect(listed.snapshots.find((s) => s.id === first.id)).toMatchObject({ paths: [src], tree: first.snapshot.tree });
      const table = (await georep.ok(['snapshots'])).stdout;
      expect(table).toContain(first.id.slice(0, 12));
      expect(table).toMatch(new RegExp(`^${second.id.slice(0, 12)} .* ${other}$`, 'm'));
      expect(table).toMatch(new RegExp(`^${listed.snapshots.length} snapshots$`, 'm'));

      const entries = JSON.parse((await georep.ok(['ls', first.id, '--json'])).stdout) as LsEntry[];
      const byPath = new Map(entries.map((e) => [e.path, e]));
      const registry = await stat(path.join(src, 'shelters/registry.csv'), { bigint: true });
      expect(byPath.get('/shelters/registry.csv')).toEqual({
        path: '/shelters/registry.csv',
        type: 'file',
        mode: 0o644,
        uid: Number(registry.uid),
        gid: Number(registry.gid),
        // Whole milliseconds, cut (not rounded) like ls(1) does.
        mtime: new Date(Number(registry.mtimeNs / 1_000_000n)).toISOString(),
        size: Number(registry.size),
      });
      expect(byPath.get('/shelters/relative-link')).toMatchObject({ type: 'symlink', target: 'registry.csv' });
      expect(byPath.get('/empty-folder')).toMatchObject({ type: 'dir', mode: 0o750 });
      expect(byPath.get('/empty-folder')).not.toHaveProperty('size');
      expect(entries.filter((e) => e.type === 'file')).toHaveLength(first.snapshot.summary.files);
      expect(entries.filter((e) => e.type === 'dir')).toHaveLength(first.snapshot.summary.dirs);
      expect(JSON.parse((await georep.ok(['ls', 'latest', '--json'])).stdout)).toEqual([
        expect.objectContaining({ path: '/later.txt', type: 'file', size: 6 }),
      ]);

      const sub = JSON.parse((await georep.ok(['ls', first.id.slice(0, 6), 'shelters/region-a', '--json'])).stdout) as LsEntry[];
      expect(sub[0]).toMatchObject({ path: '/shelters/region-a', type: 'dir' });
      expect(sub.every((e) => e.path.startsWith('/shelters/region-a'))).toBe(true);
      expect(sub.map((e) => e.path)).toContain('/shelters/region-a/deep/deeper/note.txt');
      const text = (await georep.ok(['ls', first.id, 'shelters'])).stdout;
      expect(text).toMatch(/^-rw-r--r-- .* \/shelters\/registry\.csv$/m);
      expect(text).toMatch(/^l.* \/shelters\/relative-link -> registry\.csv$/m);

      const out = ctx.path('out');
      await georep.ok(['restore', 'latest', '--to', out]);
      await expectSameTree(other, out);
    });

    it('--overwrite never, if-changed and always treat existing files as documented', async () => {
      const { georep, src, snap } = await ctx.shared();
      const out = ctx.path('out');
      await georep.ok(['restore', snap.id, '--to', out]);

      // Changed in size and time; changed in content only (same size, same time); removed.
      await writeFile(path.join(out, 'script.sh'), 'edited by hand, and longer\n');
      // Its time put back the way restore sets times (seconds as a double), so only the bytes differ.
      const keyTime = Number((await stat(path.join(out, 'secret.key'), { bigint: true })).mtimeNs / 1000n) / 1e6;
      await writeFile(path.join(out, 'secret.key'), 'X');
      await utimes(path.join(out, 'secret.key'), keyTime, keyTime);
      await unlink(path.join(out, 'shelters/registry.csv'));
      const text = async (name: string): Promise<string> => readFile(path.join(out, name), 'utf8');

      const never = await georep.ok(['restore', snap.id, '--to', out, '--json']);
      const skipped = (JSON.parse(never.stdout) as { skipped: number; files: number }).skipped;
      expect(skipped).toBeGreaterThan(10);
      expect(JSON.parse(never.stdout)).toMatchObject({ files: 1 });
      expect(await text('script.sh')).toBe('edited by hand, and longer\n');
      expect(await text('secret.key')).toBe('X');
      expect(await text('shelters/registry.csv')).toMatch(/^id,name,capacity/);

      const ifChanged = await georep.ok(['restore', snap.id, '--to', out, '--overwrite', 'if-changed']);
      expect(ifChanged.stdout).toMatch(/left as they were/);
      expect(await text('script.sh')).toBe('#!/bin/sh\necho hi\n');
      expect((await stat(path.join(out, 'script.sh'))).mode & 0o777).toBe(0o755);
      expect(await text('secret.key')).toBe('X'); // same size and time: taken as unchanged

      await georep.ok(['restore', snap.id, '--to', out, '--overwrite', 'always']);
      expect(await text('secret.key')).toBe('k');
      await expectSameTree(src, out);
    });
  });
}
