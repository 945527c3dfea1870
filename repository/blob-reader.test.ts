// BlobReader reads tree blobs through windows of their pack (pack-windows.ts): a walk of many
// trees is a few requests, every tree is still authenticated, and a tree that fails from a window
// is read again from the site before it is called damaged. Data blobs are read exactly, as before.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { FileSite } from '../sites/file/file-site.ts';
import type { GetOptions } from '../sites/site.ts';
import { ForwardingSite } from '../sites/wrappers/forwarding.ts';
import { tempDir } from '../test/fixtures/temp-dir.ts';
import { BlobReader } from './blob-reader.ts';
import { IntegrityError } from './errors.ts';
import { MasterIndex } from './index.ts';
import { MIN_KDF } from './keyfile.ts';
import { packKey } from './layout.ts';
import { PackWriter } from './pack/writer.ts';
import { Repository } from './repository.ts';
import { encodeTree } from './tree.ts';
import type { Tree } from './types.ts';

const clock = new ManualClock(Date.UTC(2026, 10, 28, 6));

/** Counts the ranged reads of packs that reach the site (trailers apart). */
class CountingSite extends ForwardingSite {
  packReads = 0;
  override get(key: string, options?: GetOptions): Promise<Buffer> {
    if (key.startsWith('data/') && options?.range !== undefined && options.range.length !== 44) this.packReads++;
    return super.get(key, options);
  }
}

function tree(i: number): Tree {
  const name = (n: number): Buffer => Buffer.from(`record-${i}-${n}.csv`);
  return {
    nodes: Array.from({ length: 20 }, (_, n) => ({
      name: name(n),
      type: 'file' as const,
      mode: 0o644,
      uid: 1000,
      gid: 1000,
      mtimeNs: 1_764_300_000_000_000_000n + BigInt(i * 100 + n),
      size: 0,
      content: [],
    })),
  };
}

async function repositoryWithTrees(count: number): Promise<{ dir: string; site: CountingSite; repo: Repository; index: MasterIndex; ids: string[] }> {
  const dir = await tempDir('georep-blob-reader');
  const init = await Repository.init(new FileSite(dir), 'pw', { kdf: MIN_KDF, clock, host: 'h', user: 'u' });
  const writer = new PackWriter(init.key, 'tree');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = encodeTree(tree(i));
    const id = init.key.blobId(bytes);
    writer.add(id, bytes, 0, bytes.length);
    ids.push(id);
  }
  const { bytes, description } = writer.finish();
  await init.savePackAs(description.id, bytes);
  const index = new MasterIndex();
  index.addPack(description);
  const site = new CountingSite(new FileSite(dir));
  const repo = await Repository.open(site, 'pw', { clock });
  return { dir, site, repo, index, ids };
}

describe('BlobReader tree reads', () => {
  it('reads 300 trees of one pack in a request or two, each one authenticated', async () => {
    const { site, repo, index, ids } = await repositoryWithTrees(300);
    const reader = new BlobReader(repo, index);
    const trees = await Promise.all(ids.map((id) => reader.readTree(id)));
    const names = (t: Tree): string[] => t.nodes.map((n) => n.name.toString()).sort();
    trees.forEach((t, i) => expect(names(t)).toEqual(names(tree(i))));
    expect(site.packReads).toBeGreaterThan(0);
    expect(site.packReads).toBeLessThanOrEqual(2);
  });

  it('a damaged tree fails, naming its pack, and is read again from the site once mended', async () => {
    const { dir, site, repo, index, ids } = await repositoryWithTrees(50);
    const reader = new BlobReader(repo, index);
    const victim = index.lookup(ids[7]!)!;
    const file = path.join(dir, packKey(victim.pack));
    const at = victim.entry.offset + 20;
    const flip = async (): Promise<void> => {
      const fh = await open(file, 'r+');
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, at);
      byte[0] = byte[0]! ^ 0x01;
      await fh.write(byte, 0, 1, at);
      await fh.close();
    };
    await flip();
    await expect(reader.readTree(ids[7]!)).rejects.toThrow(IntegrityError);
    await expect(reader.readTree(ids[7]!)).rejects.toThrow(packKey(victim.pack));
    const readsBefore = site.packReads;
    // Its neighbours in the same window are sound, and were never given out unchecked.
    expect((await reader.readTree(ids[6]!)).nodes).toHaveLength(20);
    await flip();
    expect((await reader.readTree(ids[7]!)).nodes).toHaveLength(20);
    expect(site.packReads).toBeGreaterThan(readsBefore);
  });

  it('reads data blobs exactly, not through windows', async () => {
    const { site, repo, index } = await repositoryWithTrees(1);
    const writer = new PackWriter(repo.key, 'data');
    const blobs = [Buffer.from('first blob'), Buffer.from('second blob')];
    for (const b of blobs) writer.add(repo.key.blobId(b), b, 0, b.length);
    const { bytes, description } = writer.finish();
    await repo.savePackAs(description.id, bytes);
    index.addPack(description);
    const reader = new BlobReader(repo, index);
    for (const b of blobs) expect(await reader.readBlob(repo.key.blobId(b))).toEqual(b);
    expect(site.packReads).toBe(2);
  });
});
