// The snapshot pipeline against a folder site, through the library: what the workers store must
// be exactly what was read, whatever the timing between reading, answers and sealing.
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotForTest } from '../fixtures/snapshot.ts';
import { systemClock } from '../../core/clock.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { restoreSnapshot } from '../../verifier/restore/restore.ts';
import type { snapshotDirectory } from '../../replicator/snapshot/snapshot-directory.ts';
import { tempDir } from '../fixtures/temp-dir.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function setup(chunkAvg: number): Promise<{ dir: string; repo: Repository }> {
  const dir = await tempDir('georep-snap');
  await mkdir(path.join(dir, 'site'));
  const repo = await Repository.init(new FileSite(path.join(dir, 'site')), 'pw', {
    kdf: MIN_KDF,
    chunker: { avg: chunkAvg },
    packSize: 4 * 1024 * 1024,
    clock: systemClock,
    host: 'test',
    user: 'test',
  });
  return { dir, repo };
}

async function snapshot(repo: Repository, dir: string, source: string): ReturnType<typeof snapshotDirectory> {
  return snapshotForTest(repo, source, dir);
}

/** Snapshots `source`, restores it, and returns the folder it was restored to. */
async function snapshotAndRestore(repo: Repository, dir: string, source: string): Promise<string> {
  const result = await snapshot(repo, dir, source);
  expect(result.problems).toEqual([]);
  const target = path.join(dir, `restored-${result.id.slice(0, 8)}`);
  const fresh = await loadMasterIndex(repo);
  const restored = await restoreSnapshot({
    reader: new BlobReader(repo, fresh.index),
    index: fresh.index,
    tree: result.manifest.tree,
    target,
    overwrite: 'never',
  });
  expect(restored.problems).toEqual([]);
  return target;
}

describe('snapshotDirectory', () => {
  it('stores incompressible chunks intact while the read buffer is reused (many files, many fills)', async () => {
    const { dir, repo } = await setup(64 * 1024);
    const source = path.join(dir, 'source');
    await mkdir(source);
    const expected = new Map<string, string>();
    // Random bytes do not compress, so chunks are stored raw: they must not alias the read buffer.
    for (let i = 0; i < 3; i++) {
      const bytes = randomBytes(9 * 1024 * 1024 + i);
      await writeFile(path.join(source, `big-${i}.bin`), bytes);
      expected.set(`big-${i}.bin`, sha(bytes));
    }
    for (let i = 0; i < 60; i++) {
      const bytes = i % 2 === 0 ? randomBytes(1000 + i * 997) : Buffer.from(`row,${i}\n`.repeat(3000));
      await writeFile(path.join(source, `small-${i}`), bytes);
      expected.set(`small-${i}`, sha(bytes));
    }
    const restored = await snapshotAndRestore(repo, dir, source);
    for (const [name, hash] of expected) {
      expect(sha(await readFile(path.join(restored, name))), name).toBe(hash);
    }
  });

  it('stores a chunk met twice in one run once', async () => {
    const { dir, repo } = await setup(64 * 1024);
    const source = path.join(dir, 'source');
    await mkdir(source);
    const same = randomBytes(3 * 1024 * 1024);
    for (let i = 0; i < 6; i++) await writeFile(path.join(source, `copy-${i}`), same);
    const result = await snapshot(repo, dir, source);
    expect(result.manifest.summary.newBytes).toBe(same.length);
    // The run's packs as its index objects describe them.
    const ours = new Set(result.packs.filter((p) => p.type === 'data').map((p) => p.id));
    const { index } = await loadMasterIndex(repo);
    const blobs = [...index.packs()].filter((p) => ours.has(p.id)).flatMap((p) => p.blobs);
    expect(blobs.length).toBe(result.packs.filter((p) => p.type === 'data').reduce((n, p) => n + p.blobs, 0));
    expect(new Set(blobs.map((b) => b.id)).size).toBe(blobs.length);
    expect(blobs.reduce((n, b) => n + b.rawLength, 0)).toBe(same.length);
  });

  it('skips exactly the unchanged files through the streamed change cache, in the walk order of awkward names', async () => {
    const { dir, repo } = await setup(64 * 1024);
    const source = path.join(dir, 'source');
    // Names whose plain byte order differs from the walk's ("a b" and "a.txt" sort before "a/…").
    const files = ['a/x', 'a/y/z', 'a b', 'a.txt', 'a0/w', 'b/gone/1', 'b/gone/2', 'c'];
    for (const rel of files) {
      await mkdir(path.dirname(path.join(source, rel)), { recursive: true });
      await writeFile(path.join(source, rel), `content of ${rel}\n`);
    }
    await mkdir(Buffer.from(`${source}/\xff`, 'latin1'));
    await writeFile(Buffer.from(`${source}/\xff/odd`, 'latin1'), 'below a name that is not UTF-8');
    await link(path.join(source, 'c'), path.join(source, 'c-link'));
    const first = await snapshot(repo, dir, source);
    expect(first.stats).toMatchObject({ files: 10, unchanged: 0 });

    const warm = await snapshot(repo, dir, source);
    expect(warm.stats).toMatchObject({ files: 10, unchanged: 10 });
    expect(warm.manifest.tree).toBe(first.manifest.tree);

    // A folder removed, one added, one file changed (new size), one added among cached names.
    await rm(path.join(source, 'b'), { recursive: true });
    await mkdir(path.join(source, 'a1'));
    await writeFile(path.join(source, 'a1/new'), 'new');
    await writeFile(path.join(source, 'a.txt'), 'changed, longer than before');
    await writeFile(path.join(source, 'a c'), 'added');
    const changed = await snapshot(repo, dir, source);
    expect(changed.stats).toMatchObject({ files: 10, unchanged: 7 });
    // Never wrong: the same tree as a run without any cache.
    await rm(path.join(dir, 'cache'), { recursive: true });
    const cold = await snapshot(repo, dir, source);
    expect(cold.stats).toMatchObject({ files: 10, unchanged: 0 });
    expect(cold.manifest.tree).toBe(changed.manifest.tree);
    const restored = await snapshotAndRestore(repo, dir, source);
    expect(await readFile(path.join(restored, 'a.txt'), 'utf8')).toBe('changed, longer than before');
  });
});
