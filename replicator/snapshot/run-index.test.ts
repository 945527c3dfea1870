// A run's index objects: written as packs are stored, each of a bounded number of blobs, together
// describing exactly the run's packs; a failed write fails the run.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { decodeIndex } from '../../repository/index.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { loadMasterIndex } from '../../repository/load-index.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { FaultySite } from '../../sites/wrappers/faults.ts';
import { RunIndex } from './run-index.ts';

let dir: string;
let site: FaultySite;
let repo: Repository;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-run-index-'));
  site = new FaultySite(new FileSite(dir), systemClock);
  repo = await Repository.init(site, 'pw', { kdf: MIN_KDF, clock: systemClock, host: 'h', user: 'u' });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real pack of `blobs` small blobs, stored at the site. */
async function storedPack(blobs: number): Promise<PackDescription> {
  const writer = new PackWriter(repo.key, 'data');
  for (let i = 0; i < blobs; i++) {
    const chunk = randomBytes(100 + i);
    writer.add(repo.key.blobId(chunk), chunk, 0, chunk.length);
  }
  const { bytes, description } = writer.finish();
  await repo.savePackAs(description.id, bytes);
  return description;
}

async function indexObjects(): Promise<PackDescription[][]> {
  const out: PackDescription[][] = [];
  for await (const id of repo.listObjects('index')) out.push(decodeIndex(await repo.loadObject('index', id), `index/${id}`));
  return out;
}

const blobCount = (packs: PackDescription[]): number => packs.reduce((n, p) => n + p.blobs.length, 0);

describe('RunIndex', () => {
  it('writes index objects of at most the limit as packs come, and the rest at flush', async () => {
    const run = new RunIndex(repo, 10);
    const packs: PackDescription[] = [];
    for (let i = 0; i < 7; i++) {
      const pack = await storedPack(3);
      packs.push(pack);
      await run.add(pack);
      // Three packs (9 blobs) wait; the fourth carries them over 10, so they are written first.
      if (i === 2) expect(await indexObjects()).toEqual([]);
      if (i === 3) expect((await indexObjects()).map(blobCount)).toEqual([9]);
    }
    await run.flush();
    const objects = await indexObjects();
    expect(objects.map(blobCount).sort()).toEqual([3, 9, 9]);
    expect(objects.flat().map((p) => p.id).sort()).toEqual(packs.map((p) => p.id).sort());
    expect(run.packs).toEqual(packs.map((p) => ({ id: p.id, type: 'data', size: p.size, blobs: 3 })));
    expect(run.storedBytes).toBe(packs.reduce((n, p) => n + p.size, 0));
    // Readers see the union, as for any repository.
    const { index } = await loadMasterIndex(repo);
    for (const p of packs) for (const b of p.blobs) expect(index.lookup(b.id)?.pack).toBe(p.id);
    // Nothing waits: a second flush writes nothing more.
    await run.flush();
    expect(await indexObjects()).toHaveLength(3);
  });

  it('gives a pack of more blobs than the limit an object of its own', async () => {
    const run = new RunIndex(repo, 4);
    const small = await storedPack(2);
    const big = await storedPack(6);
    await run.add(small);
    await run.add(big);
    await run.flush();
    const objects = await indexObjects();
    expect(objects.map((o) => o.map((p) => p.id)).sort()).toEqual([[small.id], [big.id]].sort());
  });

  it('writes nothing for a run that stored nothing', async () => {
    await new RunIndex(repo).flush();
    expect(await indexObjects()).toEqual([]);
  });

  it('fails the run when an index object cannot be written', async () => {
    const run = new RunIndex(repo, 3);
    await run.add(await storedPack(3));
    site.add({ ops: 'put', key: 'index/', fault: { kind: 'fail' }, times: 1 });
    await expect(run.add(await storedPack(3))).rejects.toThrow();
    // Later writes and the final flush report it too: the run cannot commit.
    await expect(run.add(await storedPack(3))).rejects.toThrow();
    await expect(run.flush()).rejects.toThrow();
    const written: Hex64[] = [];
    for await (const id of repo.listObjects('index')) written.push(id);
    expect(written).toEqual([]);
  });
});
