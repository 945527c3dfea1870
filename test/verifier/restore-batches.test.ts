// A restore plans and restores in batches of a bounded number of entries, in tree order
// (verifier/restore/plan.ts), so its memory does not grow with the files; the next batch is
// planned while one is restored, and batches grow from a small first one. Here batches of 40
// entries cut a tree of ~330 into nine, and everything that spans batches still holds: a hard link
// whose first path was in an earlier batch, a damaged pack whose files are in two batches, the
// overwrite rules, folder metadata set after the last batch, the progress total, and a damaged
// tree met while a batch is being restored.
import { createHash, randomBytes } from 'node:crypto';
import { link, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, utimes, chmod, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotForTest } from '../fixtures/snapshot.ts';
import { systemClock } from '../../core/clock.ts';
import { BlobReader, type FetchedSpan } from '../../repository/blob-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, PackEntry, Tree } from '../../repository/types.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { findNode, planRestore, type RestoreBatch } from '../../verifier/restore/plan.ts';
import { restoreSnapshot, type RestoreOptions, type RestoreResult } from '../../verifier/restore/restore.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BATCH = 40;
const FOLDERS = 12;
const PER_FOLDER = 25;

/** A real reader that notes, in order, each tree read and each span fetched. */
class NotingReader extends BlobReader {
  readonly events: ('tree' | 'span')[] = [];

  override readTree(id: Hex64): Promise<Tree> {
    this.events.push('tree');
    return super.readTree(id);
  }

  override fetchSpan(pack: Hex64, entries: PackEntry[], into?: Uint8Array): Promise<FetchedSpan> {
    this.events.push('span');
    return super.fetchSpan(pack, entries, into);
  }

  /** True when trees were still read after file data was fetched: the plan was not made whole first. */
  get interleaved(): boolean {
    const firstSpan = this.events.indexOf('span');
    return firstSpan >= 0 && this.events.lastIndexOf('tree') > firstSpan;
  }
}

let dir: string;
let repo: Repository;
let index: MasterIndex;
let tree: Hex64;
let source: string;
/** Every regular file's path (hard links too) and content hash. */
const expected = new Map<string, string>();
let sourceBytes = 0;
const folderTimes = new Map<string, number>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-batches-'));
  await mkdir(path.join(dir, 'site'));
  repo = await Repository.init(new FileSite(path.join(dir, 'site')), 'pw', {
    kdf: MIN_KDF,
    chunker: { avg: 64 * 1024 },
    clock: systemClock,
    host: 'test',
    user: 'test',
  });
  source = path.join(dir, 'source');
  for (let d = 0; d < FOLDERS; d++) {
    const folder = `d${String(d).padStart(2, '0')}`;
    await mkdir(path.join(source, folder), { recursive: true });
    for (let f = 0; f < PER_FOLDER; f++) {
      const rel = `${folder}/f${String(f).padStart(2, '0')}`;
      const bytes = randomBytes(50 + ((d * PER_FOLDER + f) % 250));
      await writeFile(path.join(source, rel), bytes);
      expected.set(rel, sha(bytes));
      sourceBytes += bytes.length;
    }
  }
  // First paths in the first batches, further links in the last ones.
  for (const [first, further] of [
    ['d00/f00', 'd11/link'],
    ['d01/f05', 'd10/link'],
  ] as const) {
    await link(path.join(source, first), path.join(source, further));
    expected.set(further, expected.get(first)!);
    sourceBytes += (await stat(path.join(source, first))).size;
  }
  await symlink('../d00/f01', path.join(source, 'd05/sym'));
  // Every folder holds files of two or more batches; d03 is read-only.
  await chmod(path.join(source, 'd03'), 0o555);
  for (let d = 0; d < FOLDERS; d++) {
    const folder = `d${String(d).padStart(2, '0')}`;
    const seconds = 1_600_000_000 + d * 1000;
    await utimes(path.join(source, folder), seconds, seconds);
    folderTimes.set(folder, seconds * 1000);
  }
  const snap = await snapshotForTest(repo, source, dir, {
    // One chunk worker: every file's data goes to one worker's packs, so the damaged-pack case
    // below always finds files of far-apart batches in one pack (with two, which files share a
    // pack depends on which worker was free).
    workers: 1,
  });
  expect(snap.problems).toEqual([]);
  tree = snap.manifest.tree;
  index = (await loadMasterIndex(repo)).index;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function restore(target: string, options: Partial<RestoreOptions> = {}): Promise<{ result: RestoreResult; reader: NotingReader }> {
  const reader = new NotingReader(repo, index);
  const result = await restoreSnapshot({ reader, index, tree, target, overwrite: 'never', batchEntries: BATCH, ...options });
  return { result, reader };
}

async function expectExact(target: string, except: Set<string> = new Set()): Promise<void> {
  for (const [rel, hash] of expected) {
    if (except.has(rel)) continue;
    expect(sha(await readFile(path.join(target, rel))), rel).toBe(hash);
  }
}

describe('restore in batches', () => {
  it('restores a tree of nine batches exactly: links across batches, folder metadata after the last', async () => {
    const target = path.join(dir, 'whole');
    const { result, reader } = await restore(target);
    expect(reader.interleaved).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.files).toBe(expected.size);
    expect(result.dirs).toBe(FOLDERS);
    expect(result.symlinks).toBe(1);
    await expectExact(target);
    // Hard links whose first path was restored batches earlier are links to it, not copies.
    expect((await stat(path.join(target, 'd11/link'))).ino).toBe((await stat(path.join(target, 'd00/f00'))).ino);
    expect((await stat(path.join(target, 'd10/link'))).ino).toBe((await stat(path.join(target, 'd01/f05'))).ino);
    expect(await readlink(path.join(target, 'd05/sym'))).toBe('../d00/f01');
    // Each folder's files came in several batches; its mtime and mode were set after all of them.
    for (const [folder, ms] of folderTimes) {
      const st = await lstat(path.join(target, folder));
      expect(st.mtimeMs, folder).toBe(ms);
      expect(st.mode & 0o777, folder).toBe((await lstat(path.join(source, folder))).mode & 0o777);
    }
    expect((await lstat(path.join(target, 'd03'))).mode & 0o777).toBe(0o555);
  });

  it('applies the overwrite rules to files of every batch', async () => {
    const target = path.join(dir, 'overwrite');
    await restore(target);
    // Changed in place (same size, new bytes and mtime): one in the first batch, one in the last.
    const changed = ['d00/f03', 'd11/f24'];
    for (const rel of changed) {
      const size = (await stat(path.join(target, rel))).size;
      await writeFile(path.join(target, rel), Buffer.alloc(size, 0x61));
    }
    const entries = expected.size + 1; // the files, their links and the symlink

    const never = await restore(target, { overwrite: 'never' });
    expect(never.result.problems).toEqual([]);
    expect(never.result.files).toBe(0);
    expect(never.result.skipped).toBe(entries);
    for (const rel of changed) expect((await readFile(path.join(target, rel)))[0]).toBe(0x61);

    const ifChanged = await restore(target, { overwrite: 'if-changed' });
    expect(ifChanged.reader.interleaved).toBe(true);
    expect(ifChanged.result.problems).toEqual([]);
    expect(ifChanged.result.files).toBe(changed.length);
    expect(ifChanged.result.skipped).toBe(entries - changed.length);
    await expectExact(target);

    const always = await restore(target, { overwrite: 'always' });
    expect(always.reader.interleaved).toBe(true);
    expect(always.result.problems).toEqual([]);
    expect(always.result.files).toBe(expected.size);
    expect(always.result.symlinks).toBe(1);
    expect(always.result.skipped).toBe(0);
    await expectExact(target);
    expect((await stat(path.join(target, 'd11/link'))).ino).toBe((await stat(path.join(target, 'd00/f00'))).ino);
  });

  it('fails only the files of a damaged pack, in every batch, and the links to them', async () => {
    const reader = new BlobReader(repo, index);
    const locate = async (rel: string): Promise<ReturnType<MasterIndex['lookup']> & object> => {
      const node = await findNode(reader, tree, rel);
      return index.lookup(node!.content![0]!)!;
    };
    // A file of the second batch, and one of the eighth or ninth in the same pack (found, not
    // assumed: the snapshot above uses one chunk worker, so its files share packs).
    const damaged = ['d01/f05'];
    const locations = [await locate('d01/f05')];
    for (let f = 0; f < PER_FOLDER && damaged.length < 2; f++) {
      const rel = `d09/f${String(f).padStart(2, '0')}`;
      const location = await locate(rel);
      if (location.pack !== locations[0]!.pack) continue;
      damaged.push(rel);
      locations.push(location);
    }
    expect(damaged).toHaveLength(2);
    const packFile = path.join(dir, 'site', 'data', locations[0]!.pack.slice(0, 2), locations[0]!.pack);
    const original = await readFile(packFile);
    const copy = Buffer.from(original);
    for (const { entry } of locations) copy[entry.offset + (entry.storedLength >> 1)]! ^= 0x10;
    await writeFile(packFile, copy);
    try {
      const target = path.join(dir, 'damaged');
      const { result, reader: noting } = await restore(target);
      expect(noting.interleaved).toBe(true);
      const problems = result.problems.map((p) => [p.path, p.code]).sort();
      expect(problems.map(([p]) => p)).toEqual([...damaged, 'd10/link']);
      expect(problems[2]![1]).toBe('BLOCKED'); // a further link of a file that failed in an earlier batch
      for (const rel of [...damaged, 'd10/link']) await expect(lstat(path.join(target, rel)), rel).rejects.toThrow(/ENOENT/);
      expect(result.files).toBe(expected.size - 3);
      await expectExact(target, new Set([...damaged, 'd10/link']));
    } finally {
      await writeFile(packFile, original);
    }
  });

  it('plans batches that grow from the first size to the maxima, blob uses in proportion', async () => {
    /** What `measure` says of each batch planned from a first one of 10 entries up to 80. */
    const planned = async (maxBlobUses: number, measure: (batch: RestoreBatch) => number): Promise<number[]> => {
      const seen: number[] = [];
      await planRestore(new BlobReader(repo, index), index, { tree }, {
        target: { fresh: true, blocked: false },
        maxEntries: 80,
        maxBlobUses,
        firstEntries: 10,
        onBatch: (batch) => {
          seen.push(measure(batch));
          return Promise.resolve();
        },
      });
      return seen;
    };
    const sizes = await planned(1_000_000, (b) => b.dirs.length + b.files.length + b.symlinks.length + b.specials.length);
    expect(sizes.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(sizes.slice(4, -1).every((n) => n === 80)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(FOLDERS + expected.size + 1);
    // A first batch of 10 entries may hold 4 of the 32 uses a batch of 80 may.
    const uses = await planned(32, (b) => b.packs.reduce((n, p) => n + p.blobs.reduce((m, x) => m + x.uses.length, 0), 0));
    expect(uses.slice(0, 4)).toEqual([4, 8, 16, 32]);
  });

  it('a damaged tree met while a batch is restored stops the restore once that batch is done', async () => {
    const reader = new BlobReader(repo, index);
    const d09 = await findNode(reader, tree, 'd09');
    const location = index.lookup(d09!.subtree!)!;
    const packFile = path.join(dir, 'site', 'data', location.pack.slice(0, 2), location.pack);
    const original = await readFile(packFile);
    const copy = Buffer.from(original);
    copy[location.entry.offset + (location.entry.storedLength >> 1)]! ^= 0x01;
    await writeFile(packFile, copy);
    try {
      const target = path.join(dir, 'damaged-tree');
      await expect(restore(target)).rejects.toThrow(location.pack);
      // What the rejection left is final and whole: the batches handed over before the one d09 is
      // in (entries 0-199 of 40 a batch: d00-d06 and d07 in part), and nothing of that one.
      const present = async (): Promise<string[]> => {
        const found: string[] = [];
        for (const rel of expected.keys()) if (await stat(path.join(target, rel)).then(() => true, () => false)) found.push(rel);
        return found;
      };
      const after = await present();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await present()).toEqual(after);
      const early = [...expected.keys()].filter((rel) => rel < 'd07/' && !rel.endsWith('link'));
      expect(early).toHaveLength(7 * PER_FOLDER);
      for (const rel of early) expect(after).toContain(rel);
      expect(after.some((rel) => rel >= 'd08/')).toBe(false);
      for (const rel of after) expect(sha(await readFile(path.join(target, rel))), rel).toBe(expected.get(rel));
    } finally {
      await writeFile(packFile, original);
    }
  });

  it('reports progress toward the bytes of the trees, walked first when the caller does not know them', async () => {
    const seen: [number, number][] = [];
    const onProgress = (done: number, total: number): void => {
      seen.push([done, total]);
    };
    const { result } = await restore(path.join(dir, 'progress'), { onProgress });
    // Every file's bytes, a hard link's again (as a manifest's summary counts them); the links are not written.
    expect(new Set(seen.map(([, total]) => total))).toEqual(new Set([sourceBytes]));
    expect(seen.at(-1)![0]).toBe(result.bytes);
    expect(result.bytes).toBeLessThan(sourceBytes);

    const part: [number, number][] = [];
    const sub = await restore(path.join(dir, 'progress-part'), { subPath: 'd04', onProgress: (done, total) => part.push([done, total]) });
    expect(sub.result.problems).toEqual([]);
    let d04 = 0;
    for (let f = 0; f < PER_FOLDER; f++) d04 += (await stat(path.join(source, `d04/f${String(f).padStart(2, '0')}`))).size;
    expect(part.at(-1)).toEqual([d04, d04]);
    await expectExact(path.join(dir, 'progress-part'), new Set([...expected.keys()].filter((rel) => !rel.startsWith('d04/'))));

    const known: number[] = [];
    await restore(path.join(dir, 'progress-known'), { totalBytes: 12345, onProgress: (_done, total) => known.push(total) });
    expect(new Set(known)).toEqual(new Set([12345]));
  });
});
