// Per-snapshot release of staging on a real (file) staging repository: a snapshot committed
// everywhere takes with it the packs no pending snapshot needs; packs a pending snapshot needs
// stay, and so does an older run's index object (and every pack it lists) when a pending snapshot
// deduplicated against it; the last release empties staging but for config and keys.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { BlobReader } from '../../repository/blob-reader.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64 } from '../../repository/types.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { snapshotDirectory } from '../snapshot/snapshot-directory.ts';
import { neededPacks } from './needed-packs.ts';
import { releaseStaged } from './release.ts';
import { loadShipIndex } from './ship-index.ts';
import { listPending, writePending } from './staging.ts';
import { seededBytes } from '../../test/fixtures/tree-gen.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-release-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function listIds(site: FileSite, prefix: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const info of site.list(prefix)) out.add(info.key.slice(info.key.lastIndexOf('/') + 1));
  return out;
}

describe('releaseStaged', () => {
  it('releases per snapshot: what a pending snapshot needs stays, the rest goes', async () => {
    await mkdir(path.join(dir, 'staging'));
    const site = new FileSite(path.join(dir, 'staging'));
    const repo = await Repository.init(site, 'pw', {
      clock: systemClock,
      host: 'h',
      user: 'u',
      kdf: { memoryKiB: 19456, iterations: 2, parallelism: 1 },
      chunker: { avg: 16 * 1024 },
      packSize: 64 * 1024,
    });
    const logger = silentLogger();
    const take = async (name: string, files: Record<string, string>): Promise<Hex64> => {
      const src = path.join(dir, name);
      await mkdir(src, { recursive: true });
      for (const [file, seed] of Object.entries(files)) await writeFile(path.join(src, file), seededBytes(seed, 150_000));
      const index = (await loadShipIndex(repo, site, [], logger)).index;
      const { id } = await snapshotDirectory({
        repo,
        index,
        source: src,
        cacheDir: path.join(dir, 'cache'),
        clock: systemClock,
        host: 'h',
        user: 'u',
        program: 'test',
      });
      await writePending(site, { snapshot: id, targets: ['x', 'y'] });
      return id;
    };
    const a = await take('a', { one: 'a1', two: 'a2' });
    const b = await take('b', { three: 'b1', four: 'b2' });
    const c = await take('c', { same: 'a1', five: 'c1' });
    const shipIndex = await loadShipIndex(repo, site, [], logger);
    const reader = new BlobReader(repo, shipIndex.index);
    const needs = async (id: Hex64): Promise<Set<Hex64>> =>
      neededPacks(reader, shipIndex.index, ((await repo.loadObject('snapshot', id)) as { tree: Hex64 }).tree);
    const [packsA, packsB, packsC] = [await needs(a), await needs(b), await needs(c)];
    const onlyB = [...packsB].filter((p) => !packsA.has(p) && !packsC.has(p));
    expect(onlyB.length).toBeGreaterThan(2);
    // c deduplicated its file 'same' against a's packs: it shares at least one pack with a.
    expect([...packsC].some((p) => packsA.has(p))).toBe(true);
    const indexBefore = await listIds(site, 'index/');
    expect(indexBefore.size).toBe(3);

    // b committed everywhere: its own packs, index object and manifest go; a's and c's stay.
    const rb = await releaseStaged({ stagingSite: site, staging: repo, shipIndex, snapshot: b, logger });
    expect(rb).toMatchObject({ emptied: false, packsDeleted: onlyB.length });
    let data = await listIds(site, 'data/');
    for (const p of onlyB) expect(data.has(p)).toBe(false);
    for (const p of [...packsA, ...packsC]) expect(data.has(p)).toBe(true);
    expect(await listIds(site, 'snapshots/')).toEqual(new Set([a, c]));
    expect((await listIds(site, 'index/')).size).toBe(2);

    // a committed everywhere, c still pending: c needs one of a's packs, so a's index object
    // stays, and with it every pack it lists (an index object ships only with all its packs).
    const ra = await releaseStaged({ stagingSite: site, staging: repo, shipIndex, snapshot: a, logger });
    expect(ra).toMatchObject({ emptied: false, packsDeleted: 0 });
    data = await listIds(site, 'data/');
    for (const p of [...packsA, ...packsC]) expect(data.has(p)).toBe(true);
    expect(await listIds(site, 'snapshots/')).toEqual(new Set([c]));
    expect(await listPending(site)).toEqual([{ snapshot: c, targets: ['x', 'y'] }]);

    // The last one empties staging but for config and keys.
    const rc = await releaseStaged({ stagingSite: site, staging: repo, shipIndex, snapshot: c, logger });
    expect(rc.emptied).toBe(true);
    expect(await listIds(site, 'data/')).toEqual(new Set());
    expect(await listIds(site, 'index/')).toEqual(new Set());
    expect(await listIds(site, 'snapshots/')).toEqual(new Set());
    expect((await site.get('config')).byteLength).toBeGreaterThan(0);
    expect((await listIds(site, 'keys/')).size).toBe(1);
  });
});
