import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { FileSite } from '../sites/file/file-site.ts';
import { BlobReader } from './blob-reader.ts';
import { IntegrityError } from './errors.ts';
import { AllSitesFailedError, FailoverReader, type SiteSwitch } from './failover-reader.ts';
import { MasterIndex } from './index.ts';
import { MIN_KDF } from './keyfile.ts';
import { packKey } from './layout.ts';
import { PackWriter } from './pack/writer.ts';
import { Repository } from './repository.ts';
import type { PackDescription } from './types.ts';

const clock = new ManualClock(Date.UTC(2026, 10, 26, 18));
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'georep-failover-'));
  dirs.push(dir);
  return dir;
}

/** One repository with one pack of three blobs at site a, copied byte for byte to site b. */
async function twoSites(): Promise<{ a: Repository; bDir: string; aDir: string; pack: PackDescription; blobs: Buffer[] }> {
  const aDir = await tempDir();
  const a = await Repository.init(new FileSite(aDir, { name: 'a' }), 'pw', { kdf: MIN_KDF, clock, host: 'h', user: 'u' });
  const blobs = [randomBytes(3000), randomBytes(4000), randomBytes(5000)];
  const writer = new PackWriter(a.key, 'data');
  for (const b of blobs) writer.add(a.key.blobId(b), b, 0, b.length);
  const { bytes, description } = writer.finish();
  await a.savePackAs(description.id, bytes);
  const bDir = await tempDir();
  await cp(aDir, bDir, { recursive: true });
  return { a, aDir, bDir, pack: description, blobs };
}

async function flipByte(file: string, at: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await fh.write(byte, 0, 1, at);
  } finally {
    await fh.close();
  }
}

describe('FailoverReader', () => {
  it('reads from the first site, fails over per damaged blob, and puts the failed site behind', async () => {
    const { a, aDir, bDir, pack, blobs } = await twoSites();
    await flipByte(path.join(aDir, packKey(pack.id)), pack.blobs[1]!.offset + 10);
    const index = new MasterIndex();
    index.addPack(pack);
    const switches: SiteSwitch[] = [];
    let opens = 0;
    const reader = new FailoverReader(
      a,
      index,
      [
        { name: 'a', open: async () => a },
        { name: 'b', open: async () => (opens++, Repository.openWith(new FileSite(bDir, { name: 'b' }), a)) },
      ],
      { onSwitch: (e) => switches.push(e) },
    );
    expect(await reader.readBlob(pack.blobs[0]!.id)).toEqual(blobs[0]);
    expect(opens).toBe(0);
    expect(reader.order).toEqual(['a', 'b']);

    const all = await reader.readEachFromPack(pack.id, pack.blobs);
    expect(all).toEqual(blobs);
    expect(opens).toBe(1);
    expect(switches).toMatchObject([{ from: 'a', to: 'b', pack: pack.id, reason: expect.stringMatching(/does not authenticate/) as unknown }]);
    expect(reader.order).toEqual(['b', 'a']);
    expect((await reader.fetchSpan(pack.id, pack.blobs)).site).toBe('b');

    // A span whose blobs failed in someone else's hands is fetched again from a site not tried.
    const again = await reader.refetchSpan(pack.id, pack.blobs, { failed: 'b', tried: new Set(['b']), reason: 'test' });
    expect(again?.site).toBe('a');
    expect(await reader.refetchSpan(pack.id, pack.blobs, { failed: 'a', tried: new Set(['a', 'b']), reason: 'test' })).toBeUndefined();
  });

  it('gives each blob its error when every copy is damaged, and AllSitesFailedError when no site has the pack', async () => {
    const { a, aDir, bDir, pack, blobs } = await twoSites();
    await flipByte(path.join(aDir, packKey(pack.id)), pack.blobs[2]!.offset + 1);
    await flipByte(path.join(bDir, packKey(pack.id)), pack.blobs[2]!.offset + 1);
    const index = new MasterIndex();
    index.addPack(pack);
    const b = await Repository.openWith(new FileSite(bDir, { name: 'b' }), a);
    const reader = new FailoverReader(a, index, [
      { name: 'a', open: async () => a },
      { name: 'b', open: async () => b },
    ]);
    const got = await reader.readEachFromPack(pack.id, pack.blobs);
    expect(got.slice(0, 2)).toEqual(blobs.slice(0, 2));
    expect(got[2]).toBeInstanceOf(IntegrityError);

    await rm(path.join(aDir, packKey(pack.id)));
    await rm(path.join(bDir, packKey(pack.id)));
    await expect(reader.fetchSpan(pack.id, pack.blobs)).rejects.toThrow(AllSitesFailedError);
    await expect(reader.fetchSpan(pack.id, pack.blobs)).rejects.toThrow(/no site could serve data\/.*a: .*; b: /);
  });

  it('a single-site reader has no other copy to fetch', async () => {
    const { a, pack } = await twoSites();
    const index = new MasterIndex();
    index.addPack(pack);
    const reader = new BlobReader(a, index);
    expect((await reader.fetchSpan(pack.id, pack.blobs)).site).toBe('a');
    expect(await reader.refetchSpan(pack.id, pack.blobs, { failed: 'a', tried: new Set(['a']), reason: 'x' })).toBeUndefined();
  });

  it('opens another site with the key in hand only when it holds the same repository', async () => {
    const { a } = await twoSites();
    const otherDir = await tempDir();
    const other = await Repository.init(new FileSite(otherDir, { name: 'o' }), 'pw', { kdf: MIN_KDF, clock, host: 'h', user: 'u' });
    await expect(Repository.openWith(other.site, a)).rejects.toThrow(IntegrityError);
    await expect(Repository.openWith(new FileSite(await tempDir(), { name: 'e' }), a)).rejects.toThrow(/holds no repository/);
  });
});
