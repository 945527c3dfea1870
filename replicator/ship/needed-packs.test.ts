import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotForTest } from '../../test/fixtures/snapshot.ts';
import { systemClock } from '../../core/clock.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import type { MasterIndex } from '../../repository/index.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, Tree } from '../../repository/types.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { neededPacks, SubtreePacks } from './needed-packs.ts';

/** A real reader that counts the trees it reads, and fails the ones it is told to. */
class CountingReader extends BlobReader {
  reads = 0;
  readonly failing = new Set<Hex64>();

  override readTree(id: Hex64): Promise<Tree> {
    this.reads++;
    if (this.failing.has(id)) return Promise.reject(new Error(`tree ${id} unreadable`));
    return super.readTree(id);
  }
}

let dir: string;
let repo: Repository;
let index: MasterIndex;
/** Two snapshots of 6 folders; between them one file of one folder changed. */
const roots: Hex64[] = [];
const FOLDERS = 6;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-needed-'));
  await mkdir(path.join(dir, 'site'));
  repo = await Repository.init(new FileSite(path.join(dir, 'site')), 'pw', { kdf: MIN_KDF, clock: systemClock, host: 't', user: 't' });
  const source = path.join(dir, 'source');
  for (let d = 0; d < FOLDERS; d++) {
    await mkdir(path.join(source, `d${d}`, 'inner'), { recursive: true });
    for (let f = 0; f < 4; f++) await writeFile(path.join(source, `d${d}`, 'inner', `f${f}`), randomBytes(2000 + d * 100 + f));
  }
  roots.push((await snapshotForTest(repo, source, dir)).manifest.tree);
  await writeFile(path.join(source, 'd2', 'inner', 'f0'), randomBytes(3000));
  roots.push((await snapshotForTest(repo, source, dir)).manifest.tree);
  index = (await loadMasterIndex(repo)).index;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('neededPacks', () => {
  it('walks the subtrees snapshots share once when given one SubtreePacks, and answers the same', async () => {
    const alone = [];
    for (const root of roots) alone.push(await neededPacks(new BlobReader(repo, index), index, root));

    const reader = new CountingReader(repo, index);
    const walked = new SubtreePacks();
    const first = await neededPacks(reader, index, roots[0]!, { walked });
    // Root, six folders, six inner folders.
    expect(reader.reads).toBe(1 + 2 * FOLDERS);
    const second = await neededPacks(reader, index, roots[1]!, { walked });
    // Only the path to the changed file is new: the root, d2 and d2/inner.
    expect(reader.reads).toBe(1 + 2 * FOLDERS + 3);
    expect(first).toEqual(alone[0]);
    expect(second).toEqual(alone[1]);
    expect(walked.get(roots[1]!)).toEqual([...alone[1]!]);
  });

  it('remembers no subtree whose walk failed, and fails the snapshot', async () => {
    const reader = new CountingReader(repo, index);
    const root = await reader.readTree(roots[0]!);
    const d3 = root.nodes.find((n) => n.name.toString() === 'd3')!.subtree!;
    const d3inner = (await reader.readTree(d3)).nodes[0]!.subtree!;
    reader.failing.add(d3inner);
    const walked = new SubtreePacks();
    await expect(neededPacks(reader, index, roots[0]!, { walked })).rejects.toThrow('unreadable');
    expect(walked.get(d3)).toBeUndefined();
    expect(walked.get(roots[0]!)).toBeUndefined();
    expect(walked.get(d3inner)).toBeUndefined();
    reader.failing.clear();
    expect(await neededPacks(reader, index, roots[0]!, { walked })).toEqual(await neededPacks(new BlobReader(repo, index), index, roots[0]!));
  });

  it('empties itself at its bound and still answers the same', async () => {
    const reader = new CountingReader(repo, index);
    // Room for a few subtrees only: it is emptied again and again during the walks.
    const walked = new SubtreePacks(6);
    for (const root of roots) {
      expect(await neededPacks(reader, index, root, { walked })).toEqual(await neededPacks(new BlobReader(repo, index), index, root));
    }
    // Less was remembered than with room to spare, so more was read again.
    expect(reader.reads).toBeGreaterThan(1 + 2 * FOLDERS + 3);
  });

  it('refuses a blob the index does not know', async () => {
    const empty = Object.create(index) as MasterIndex;
    empty.packHolding = () => undefined;
    await expect(neededPacks(new BlobReader(repo, index), empty, roots[0]!)).rejects.toThrow('is in no index');
  });
});
