// refreshShipIndex on a real (file) repository: it reads only the index objects the earlier load
// did not, and gives what a full load would; when an object read before is gone (prune rewrote
// it), it loads everything again, so packs only that object listed are no longer in the index.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/log.ts';
import { encodeIndex } from '../../repository/index.ts';
import { Repository } from '../../repository/repository.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import type { GetOptions } from '../../sites/site.ts';
import { loadShipIndex, refreshShipIndex } from './ship-index.ts';

/** A real folder site that counts the objects read from it. */
class CountingSite extends FileSite {
  readonly reads: string[] = [];
  override async get(key: string, options?: GetOptions): Promise<Buffer> {
    this.reads.push(key);
    return super.get(key, options);
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'georep-ship-index-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pack(): PackDescription {
  const hex = (): Hex64 => randomBytes(32).toString('hex');
  return { id: hex(), type: 'data', size: 1000, blobs: [{ id: hex(), type: 'data', offset: 0, storedLength: 916, rawLength: 900, compression: 0 }] };
}

describe('refreshShipIndex', () => {
  it('reads only new index objects, and loads in full when one it read is gone', async () => {
    const stagingSite = new CountingSite(dir);
    const repo = await Repository.init(stagingSite, 'pw', {
      clock: systemClock,
      host: 'h',
      user: 'u',
      kdf: { memoryKiB: 19456, iterations: 2, parallelism: 1 },
    });
    const logger = silentLogger();
    const [p1, p2, p3] = [pack(), pack(), pack()];
    const first = await repo.saveObject('index', encodeIndex([p1!]));
    const second = await repo.saveObject('index', encodeIndex([p2!]));
    const loaded = await loadShipIndex(repo, stagingSite, [], logger);
    expect(loaded.index.packCount).toBe(2);

    const third = await repo.saveObject('index', encodeIndex([p3!, p1!]));
    stagingSite.reads.length = 0;
    const refreshed = await refreshShipIndex(loaded, repo, stagingSite, [], logger);
    expect(stagingSite.reads).toEqual([`index/${third}`]);
    const full = await loadShipIndex(repo, stagingSite, [], logger);
    for (const p of [p1!, p2!, p3!]) {
      expect(refreshed.index.hasPack(p.id)).toBe(true);
      expect(refreshed.indexOf.get(p.id)?.toSorted()).toEqual(full.indexOf.get(p.id)?.toSorted());
    }
    expect(refreshed.indexOf.get(p1!.id)?.toSorted()).toEqual([first, third].sort());
    expect(refreshed.index.packCount).toBe(full.index.packCount);

    // Refreshing again with nothing new reads nothing.
    stagingSite.reads.length = 0;
    await refreshShipIndex(refreshed, repo, stagingSite, [], logger);
    expect(stagingSite.reads).toEqual([]);

    // The second object goes (as prune's rewrite deletes the old object): a full load, without p2.
    await stagingSite.delete(`index/${second}`);
    const after = await refreshShipIndex(refreshed, repo, stagingSite, [], logger);
    expect(after.index.hasPack(p2!.id)).toBe(false);
    expect(after.indexOf.has(p2!.id)).toBe(false);
    expect(after.index.hasPack(p3!.id)).toBe(true);
  });
});
