// A restore into folders it made itself leaves the creation of one-blob files to its writer
// threads, without a look first (restore.ts, SpanWrite.create). Whatever appears in such a folder
// between the planning and the writing (a file, a symlink to outside the target) is left exactly
// as it is and reported; the other files restore in full.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotForTest } from '../fixtures/snapshot.ts';
import { systemClock } from '../../core/clock.ts';
import { BlobReader, type FetchedSpan } from '../../repository/blob-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, PackEntry } from '../../repository/types.ts';
import type { snapshotDirectory } from '../../replicator/snapshot/snapshot-directory.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { restoreSnapshot, type RestoreResult } from '../../verifier/restore/restore.ts';
import type { Overwrite } from '../../verifier/restore/safe-fs.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A real reader that runs `beforeData` once, before the first span of file data is fetched. */
class PlantingReader extends BlobReader {
  private planted: Promise<void> | undefined;
  private readonly beforeData: () => Promise<void>;

  constructor(repo: Repository, index: MasterIndex, beforeData: () => Promise<void>) {
    super(repo, index);
    this.beforeData = beforeData;
  }

  override async fetchSpan(pack: Hex64, entries: PackEntry[], into?: Uint8Array): Promise<FetchedSpan> {
    // Every span waits for the planting: nothing is written before it.
    await (this.planted ??= this.beforeData());
    return super.fetchSpan(pack, entries, into);
  }
}

/** A repository in <dir>/site, with small chunks and the cheapest key derivation allowed. */
async function newRepository(dir: string): Promise<Repository> {
  await mkdir(path.join(dir, 'site'));
  return Repository.init(new FileSite(path.join(dir, 'site')), 'pw', {
    kdf: MIN_KDF,
    chunker: { avg: 64 * 1024 },
    clock: systemClock,
    host: 'test',
    user: 'test',
  });
}

async function snapshotOf(repo: Repository, source: string, dir: string): Promise<Awaited<ReturnType<typeof snapshotDirectory>>> {
  return snapshotForTest(repo, source, dir);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('restore into folders it made', () => {
  it.each<Overwrite>(['never', 'always'])(
    'leaves a file or symlink planted while it runs as it is and reports it (--overwrite %s)',
    async (overwrite) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-race-'));
      dirs.push(dir);
      const repo = await newRepository(dir);
      const source = path.join(dir, 'source');
      await mkdir(path.join(source, 'a/deep'), { recursive: true });
      const expected = new Map<string, string>();
      const put = async (rel: string, bytes: Buffer): Promise<void> => {
        await writeFile(path.join(source, rel), bytes);
        expected.set(rel, sha(bytes));
      };
      for (let i = 0; i < 8; i++) await put(`a/f${i}`, randomBytes(1000 + i));
      await put('a/deep/note', Buffer.from('deep\n'));
      await put('a/big', randomBytes(2 * 1024 * 1024)); // several blobs: made by the main thread
      await put('top.txt', Buffer.from('top\n'));
      const snap = await snapshotOf(repo, source, dir);
      expect(snap.problems).toEqual([]);

      const sentinel = path.join(dir, 'sentinel');
      await mkdir(sentinel);
      await writeFile(path.join(sentinel, 'victim'), 'precious\n');
      const target = path.join(dir, 'target');
      const plant = async (): Promise<void> => {
        // By now the restore made every folder; no file is written yet.
        expect((await lstat(path.join(target, 'a/deep'))).isDirectory()).toBe(true);
        await writeFile(path.join(target, 'a/f1'), 'planted\n');
        await symlink(path.join(sentinel, 'victim'), path.join(target, 'a/f2'));
        await symlink(path.join(sentinel, 'victim'), path.join(target, 'top.txt'));
      };
      const { index } = await loadMasterIndex(repo);
      const result: RestoreResult = await restoreSnapshot({
        reader: new PlantingReader(repo, index, plant),
        index,
        tree: snap.manifest.tree,
        target,
        overwrite,
      });

      const problems = result.problems.map((p) => [p.path, p.code]).sort();
      expect(problems).toEqual([
        ['a/f1', 'EXISTS'],
        ['a/f2', 'EXISTS'],
        ['top.txt', 'EXISTS'],
      ]);
      expect(result.problems[0]!.message).toMatch(/appeared there during the restore/);
      expect(await readFile(path.join(target, 'a/f1'), 'utf8')).toBe('planted\n');
      expect(await readlink(path.join(target, 'a/f2'))).toBe(path.join(sentinel, 'victim'));
      expect(await readlink(path.join(target, 'top.txt'))).toBe(path.join(sentinel, 'victim'));
      expect(await readdir(sentinel)).toEqual(['victim']);
      expect(await readFile(path.join(sentinel, 'victim'), 'utf8')).toBe('precious\n');
      // Everything else is restored exactly, with its mode.
      const raced = new Set(['a/f1', 'a/f2', 'top.txt']);
      for (const [rel, hash] of expected) {
        if (raced.has(rel)) continue;
        expect(sha(await readFile(path.join(target, rel))), rel).toBe(hash);
        expect((await stat(path.join(target, rel))).mode & 0o777, rel).toBe((await stat(path.join(source, rel))).mode & 0o777);
      }
      expect(result.files).toBe(expected.size - raced.size);
    },
  );

  it('fetches a pack of many tiny blobs in spans of at most 2,048 blobs, and restores every file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-spans-'));
    dirs.push(dir);
    const repo = await newRepository(dir);
    const source = path.join(dir, 'source');
    const expected = new Map<string, string>();
    for (let d = 0; d < 10; d++) {
      await mkdir(path.join(source, `d${d}`), { recursive: true });
      for (let f = 0; f < 500; f++) {
        const bytes = Buffer.from(`shelter ${d}-${f}: ${randomBytes(8).toString('hex')}\n`);
        await writeFile(path.join(source, `d${d}/f${f}`), bytes);
        expected.set(`d${d}/f${f}`, sha(bytes));
      }
    }
    const snap = await snapshotOf(repo, source, dir);
    const { index } = await loadMasterIndex(repo);
    const spanSizes: number[] = [];
    class CountingReader extends BlobReader {
      override fetchSpan(pack: Hex64, entries: PackEntry[], into?: Uint8Array): Promise<FetchedSpan> {
        spanSizes.push(entries.length);
        return super.fetchSpan(pack, entries, into);
      }
    }
    const target = path.join(dir, 'target');
    const result = await restoreSnapshot({ reader: new CountingReader(repo, index), index, tree: snap.manifest.tree, target, overwrite: 'never' });
    expect(result.problems).toEqual([]);
    expect(result.files).toBe(5000);
    // 5,000 blobs of ~40 bytes fit one 4 MiB span; the cap cuts them into at least three.
    expect(Math.max(...spanSizes)).toBeLessThanOrEqual(2048);
    expect(spanSizes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5000);
    expect(spanSizes.length).toBeGreaterThanOrEqual(3);
    for (const [rel, hash] of expected) expect(sha(await readFile(path.join(target, rel))), rel).toBe(hash);
  });
});
