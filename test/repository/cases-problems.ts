// Case 7: files that cannot be read, or that vanish or change type between the walk and the read,
// are reported with their path and the snapshot goes on: exit 3 (partial), and what was read
// restores. The races are made deterministic by wrapping lstatSync (the walker's last look before
// the chunking worker opens the file) and changing the file right after it.
import { execFileSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newRepository } from './harness.ts';
import type { SuiteContext } from './roundtrip-suite.ts';
import { exists, fileContents } from './trees.ts';

const NOBODY = 65534;

/** Runs `fn` with `after(path)` called right after every lstatSync() the process makes returns. */
async function afterEachLstat<T>(after: (p: string) => void, fn: () => Promise<T>): Promise<T> {
  const mutable = fs as { lstatSync: typeof fs.lstatSync };
  const original = fs.lstatSync;
  mutable.lstatSync = ((p: fs.PathLike, options?: fs.StatSyncOptions) => {
    const stats = original(p, options);
    after(Buffer.from(p as Buffer | string).toString());
    return stats;
  }) as typeof original;
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    mutable.lstatSync = original;
    syncBuiltinESMExports();
  }
}

/** Runs `fn` as an unprivileged user (root reads everything, whatever the modes say). */
async function unprivileged<T>(fn: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) return fn();
  process.setegid!(NOBODY);
  process.seteuid!(NOBODY);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
  }
}

async function simpleTree(src: string): Promise<void> {
  await mkdir(path.join(src, 'kept/inner'), { recursive: true });
  await writeFile(path.join(src, 'kept/a.txt'), 'a\n');
  await writeFile(path.join(src, 'kept/inner/b.txt'), 'b'.repeat(50_000));
  await writeFile(path.join(src, 'top.txt'), 'top\n');
}

export function defineProblemCases(ctx: SuiteContext): void {
  describe('unreadable and changing sources', () => {
    it('reports unreadable files and folders, exits 3, and the rest restores', async () => {
      const src = ctx.path('src');
      await simpleTree(src);
      await writeFile(path.join(src, 'locked.txt'), 'secret\n');
      await mkdir(path.join(src, 'locked-dir'));
      await writeFile(path.join(src, 'locked-dir/inside.txt'), 'hidden\n');
      await chmod(path.join(src, 'locked.txt'), 0);
      await chmod(path.join(src, 'locked-dir'), 0);
      const georep = await newRepository(ctx.makeSite, ctx.path('home'));
      await mkdir(georep.home, { recursive: true });
      if (process.geteuid?.() === 0) {
        await chown(georep.home, NOBODY, NOBODY);
        await georep.site.grant?.(NOBODY, NOBODY);
      }
      try {
        const result = await unprivileged(() => georep.run(['snapshot', src]));
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(new RegExp(`^warning: ${src}/locked\\.txt: .*EACCES`, 'm'));
        expect(result.stderr).toMatch(new RegExp(`^warning: ${src}/locked-dir: .*EACCES`, 'm'));
        expect(result.stdout).toMatch(/2 paths could not be read in full/);

        const out = ctx.path('out');
        await georep.ok(['restore', 'latest', '--to', out]);
        // The folder is kept, empty, with its mode: it was there, only its contents were not readable.
        expect((await lstat(path.join(out, 'locked-dir'))).mode & 0o777).toBe(0);
        await chmod(path.join(out, 'locked-dir'), 0o755);
        expect([...(await fileContents(out)).keys()].sort()).toEqual(['kept/a.txt', 'kept/inner/b.txt', 'top.txt']);
      } finally {
        await chmod(path.join(src, 'locked-dir'), 0o755);
      }
    });

    it('reports files that vanish or change type between the walk and the read', { timeout: 20_000 }, async () => {
      const src = ctx.path('src');
      await simpleTree(src);
      await mkdir(path.join(src, 'vanishing-dir'));
      await writeFile(path.join(src, 'vanishing-dir/x.txt'), 'x\n');
      for (const name of ['vanishing.txt', 'becomes-fifo', 'becomes-link']) await writeFile(path.join(src, name), `${name}\n`);
      const georep = await newRepository(ctx.makeSite, ctx.path('home'));
      const changes: Record<string, (p: string) => void> = {
        'vanishing.txt': (p) => fs.unlinkSync(p),
        'vanishing-dir': (p) => fs.rmSync(p, { recursive: true }),
        'becomes-fifo': (p) => {
          fs.unlinkSync(p);
          execFileSync('mkfifo', [p]);
        },
        'becomes-link': (p) => {
          fs.unlinkSync(p);
          fs.symlinkSync('/etc/hostname', p);
        },
      };
      const done = new Set<string>();
      const snap = await afterEachLstat(
        (p) => {
          const change = path.dirname(p) === src ? changes[path.basename(p)] : undefined;
          if (change === undefined || done.has(p)) return;
          done.add(p);
          change(p);
        },
        () => georep.snapshot(src, 3),
      );
      expect(done.size).toBe(4);
      expect(snap.problems.map((p) => `${path.relative(src, p.path)} ${p.code}`).sort()).toEqual([
        'becomes-fifo NOT_A_FILE',
        'becomes-link ELOOP',
        'vanishing-dir ENOENT',
        'vanishing.txt ENOENT',
      ]);

      const out = ctx.path('out');
      await georep.ok(['restore', snap.id, '--to', out]);
      expect([...(await fileContents(out)).keys()].sort()).toEqual(['kept/a.txt', 'kept/inner/b.txt', 'top.txt']);
      expect(await readdir(path.join(out, 'vanishing-dir'))).toEqual([]);
      expect(await exists(path.join(out, 'becomes-fifo'))).toBe(false);
    });
  });
}
