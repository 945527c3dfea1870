// Source trees for the round-trip suite and the checks made on restored ones.
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, readFile, rename, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { describeTree, treeDifferences } from '../fixtures/compare-trees.ts';
import { generateTree, seededBytes, type GeneratedTree } from '../fixtures/tree-gen.ts';

const SLASH = Buffer.from('/');

export function join(dir: Buffer | string, ...names: (Buffer | string)[]): Buffer {
  return names.reduce<Buffer>((acc, n) => Buffer.concat([acc, SLASH, Buffer.from(n)]), Buffer.from(dir));
}

/** A folder whose name is not UTF-8, so paths built from it cannot go through a JS string. */
export const NON_UTF8_DIR = Buffer.from([0x64, 0x69, 0x72, 0xc3, 0x28, 0xff]);

/**
 * generateTree() plus what it leaves out: a folder with a non-UTF-8 name holding a FIFO (with an
 * exact mtime), a link and a file; setgid and sticky bits.
 */
export async function richTree(root: string, bigFileBytes = 300_000): Promise<GeneratedTree> {
  const generated = await generateTree(root, { bigFileBytes });
  const odd = join(root, NON_UTF8_DIR);
  await mkdir(odd);
  await writeFile(join(odd, 'inside.txt'), 'below a name that is not UTF-8\n');
  await symlink(Buffer.from('inside.txt'), join(odd, 'link'));
  // mkfifo takes text, so the FIFO is made under a plain name and moved below the odd one.
  if (generated.features.fifo) {
    execFileSync('mkfifo', ['-m', '0640', path.join(root, 'pipe')]);
    await rename(path.join(root, 'pipe'), join(odd, 'pipe'));
  }
  await writeFile(path.join(root, 'setgid-tool'), '#!/bin/sh\n');
  await chmod(path.join(root, 'setgid-tool'), 0o2755);
  await mkdir(path.join(root, 'drop-box'));
  await chmod(path.join(root, 'drop-box'), 0o1777);
  const t = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  if (generated.features.fifo) await utimes(join(odd, 'pipe'), t, t);
  await utimes(odd, t, t);
  return generated;
}

/** Random, incompressible files of several chunks each, named f00.. under `root/data`. */
export async function dataTree(root: string, files: number, bytes: number): Promise<string[]> {
  await mkdir(path.join(root, 'data'), { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < files; i++) {
    const name = `data/f${String(i).padStart(2, '0')}`;
    await writeFile(path.join(root, name), seededBytes(`${root}:${name}`, bytes + i * 997));
    names.push(name);
  }
  return names;
}

/** Fails with a readable list when the two folders differ in anything a restore must keep. */
export async function expectSameTree(expected: string, actual: string): Promise<void> {
  expect(treeDifferences(await describeTree(expected), await describeTree(actual))).toEqual([]);
}

/** Every regular file below `root`, relative path → content (names that are valid UTF-8 only). */
export async function fileContents(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(root, rel))) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(path.join(root, child));
      if (st.isDirectory()) await walk(child);
      else if (st.isFile()) out.set(child, await readFile(path.join(root, child)));
    }
  };
  await walk('');
  return out;
}

export async function exists(p: string | Buffer): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}
