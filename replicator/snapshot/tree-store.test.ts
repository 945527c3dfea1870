// Tree packs are finished at 4 MiB whatever the repository's pack size: a big run's trees must not
// grow one main-thread buffer to 16 MiB (tree-store.ts TREE_PACK_BYTES).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { MasterIndex } from '../../repository/index.ts';
import { MIN_KDF } from '../../repository/keyfile.ts';
import { Repository } from '../../repository/repository.ts';
import type { TreeNode } from '../../repository/types.ts';
import { FileSite } from '../../sites/file/file-site.ts';
import { TreeStore } from './tree-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A name of random bytes (incompressible), without the two bytes a name may not hold. */
function name(): Buffer {
  return Buffer.from(randomBytes(60).map((b) => (b === 0 || b === 0x2f ? 0x41 : b)));
}

describe('TreeStore', () => {
  it('finishes tree packs at 4 MiB when the repository packs data at 16 MiB', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-trees-'));
    dirs.push(dir);
    const clock = new ManualClock(Date.UTC(2026, 10, 27));
    const repo = await Repository.init(new FileSite(dir), 'pw', { kdf: MIN_KDF, clock, host: 'h', user: 'u', packSize: 16 * 1024 * 1024 });
    const index = new MasterIndex();
    const packs: number[] = [];
    const trees = new TreeStore(repo, index, async (bytes, description) => {
      packs.push(bytes.byteLength);
      index.addPack(description);
    });
    const ids = [];
    for (let t = 0; t < 800; t++) {
      const nodes: TreeNode[] = Array.from({ length: 200 }, () => ({ name: name(), type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size: 0, content: [] }));
      nodes.sort((a, b) => Buffer.compare(a.name, b.name));
      ids.push(await trees.store(nodes));
    }
    await trees.flush();
    const total = packs.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(9 * 1024 * 1024);
    expect(packs.length).toBeGreaterThanOrEqual(3);
    // Finished once a blob takes it to 4 MiB: never more than that blob beyond it.
    for (const size of packs) expect(size).toBeLessThan(4 * 1024 * 1024 + 64 * 1024);
    for (const id of ids) expect(index.has(id)).toBe(true);
  });
});
