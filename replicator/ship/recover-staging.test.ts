// Packs a killed run left in staging: recovered into the dedup index and one index object; a
// damaged copy is deleted from staging; packs an index already names are left alone.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { decodeIndex, MasterIndex } from '../../repository/index.ts';
import { packKey } from '../../repository/layout.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import { Repository } from '../../repository/repository.ts';
import type { PackDescription } from '../../repository/types.ts';
import { NotFoundError } from '../../sites/errors.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { recoverStagedPacks } from './recover-staging.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-recover-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storePack(repo: Repository, seed: number): Promise<PackDescription> {
  const writer = new PackWriter(repo.key, 'data');
  for (let i = 0; i < 3; i++) {
    const chunk = randomBytes(5000 + seed * 10 + i);
    writer.add(repo.key.blobId(chunk), chunk, 0, chunk.length);
  }
  const { bytes, description } = writer.finish();
  await repo.savePackAs(description.id, bytes);
  return description;
}

describe('recoverStagedPacks', () => {
  it('indexes the orphan packs once, deletes a damaged one, leaves indexed ones alone', async () => {
    const site = new FileSite(dir);
    const repo = await Repository.init(site, 'pw', {
      clock: systemClock,
      host: 'h',
      user: 'u',
      kdf: { memoryKiB: 19456, iterations: 2, parallelism: 1 },
    });
    const known = await storePack(repo, 1);
    const orphans = [await storePack(repo, 2), await storePack(repo, 3)];
    const damaged = await storePack(repo, 4);
    const bytes = await site.get(packKey(damaged.id));
    bytes[10] = bytes[10]! ^ 1;
    await writeFile(path.join(dir, packKey(damaged.id)), bytes);

    const index = new MasterIndex();
    index.addPack(known);
    const shipIndex = { index, indexOf: new Map(), sources: [] };
    const result = await recoverStagedPacks({ repo, stagingSite: site, shipIndex, logger: silentLogger() });

    expect(result.packs.map((p) => p.id).sort()).toEqual(orphans.map((p) => p.id).sort());
    expect(result.discarded.map((d) => d.key)).toEqual([packKey(damaged.id)]);
    await expect(site.head(packKey(damaged.id))).rejects.toBeInstanceOf(NotFoundError);
    await site.head(packKey(known.id));
    for (const p of orphans) {
      expect(index.hasPack(p.id)).toBe(true);
      expect(shipIndex.indexOf.get(p.id)).toEqual([result.indexId]);
    }
    const written = decodeIndex(await repo.loadObject('index', result.indexId!), 'index');
    expect(written).toEqual([...result.packs]);

    // Once indexed, nothing is left to recover.
    expect((await recoverStagedPacks({ repo, stagingSite: site, shipIndex, logger: silentLogger() })).packs).toEqual([]);
  });
});
