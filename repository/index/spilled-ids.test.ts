import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hex64, PackDescription } from '../types.ts';
import { SpilledIds } from './spilled-ids.ts';

const randomId = (): Hex64 => randomBytes(32).toString('hex') as Hex64;
/** An id that starts with the given 4 bytes (8 hex digits), random after them. */
const idWithPrefix = (prefix: string): Hex64 => (prefix + randomBytes(28).toString('hex')) as Hex64;

describe('SpilledIds', () => {
  let dir: string;
  const sets: SpilledIds[] = [];
  const make = (runIds?: number): SpilledIds => {
    const set = new SpilledIds({ dir, ...(runIds === undefined ? {} : { runIds }) });
    sets.push(set);
    return set;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spilled-ids-'));
  });
  afterEach(async () => {
    for (const s of sets.splice(0)) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('knows every id added, in memory and in the runs on disk, and no other', () => {
    const set = make(1024);
    const added = Array.from({ length: 5000 }, randomId);
    for (const id of added) set.add(id);
    expect(set.runCount).toBe(4); // 4 × 1,024 spilled, 904 still in the table
    expect(set.blobCount).toBe(5000);
    for (const id of added) expect(set.has(id)).toBe(true);
    for (let i = 0; i < 5000; i++) expect(set.has(randomId())).toBe(false);
    expect(new Set(set.blobIds())).toEqual(new Set(added));
  });

  it('finds ids that share their first 4 bytes across block and run boundaries', () => {
    // Blocks are 256 ids, sorted by the first 4 bytes: 700 ids of one prefix span three blocks of
    // one run, and the ids of neighbouring prefixes surround them.
    const set = make(1024);
    const same = Array.from({ length: 700 }, () => idWithPrefix('12345678'));
    const below = Array.from({ length: 200 }, () => idWithPrefix('12345677'));
    const above = Array.from({ length: 200 }, () => idWithPrefix('12345679'));
    const all = [...same, ...below, ...above];
    for (const id of all) set.add(id);
    expect(set.runCount).toBe(1);
    for (const id of all) expect(set.has(id)).toBe(true);
    for (let i = 0; i < 200; i++) expect(set.has(idWithPrefix('12345678'))).toBe(false);
    expect(set.has(idWithPrefix('00000000'))).toBe(false);
    expect(set.has(idWithPrefix('ffffffff'))).toBe(false);
  });

  it('finds the smallest and largest possible prefixes', () => {
    const set = make(2);
    const edge = [idWithPrefix('00000000'), idWithPrefix('ffffffff'), idWithPrefix('00000000'), idWithPrefix('ffffffff')];
    for (const id of edge) set.add(id);
    expect(set.runCount).toBe(2);
    for (const id of edge) expect(set.has(id)).toBe(true);
    expect(set.has(idWithPrefix('00000000'))).toBe(false);
  });

  it('adds an id once while it is in memory, and learns the blobs of packs', () => {
    const set = make(1024);
    const id = randomId();
    set.add(id);
    set.add(id);
    expect(set.blobCount).toBe(1);
    const pack: PackDescription = {
      id: randomId(),
      type: 'data',
      size: 100,
      blobs: [0, 1, 2].map((i) => ({ id: randomId(), type: 'data', compression: 0, offset: i * 20, storedLength: 20, rawLength: 4 })),
    };
    set.addPack(pack);
    for (const blob of pack.blobs) expect(set.has(blob.id)).toBe(true);
    expect(set.blobCount).toBe(4);
  });

  it('gives back the number of each id, from memory and from the runs', () => {
    const set = make(256);
    const added = Array.from({ length: 1000 }, randomId);
    added.forEach((id, i) => set.add(id, i * 4099));
    expect(set.runCount).toBe(3);
    added.forEach((id, i) => expect(set.get(id)).toBe(i * 4099));
    expect(set.get(randomId())).toBeUndefined();
    // The first number stays while the id is in the table.
    set.add(added[999]!, 7);
    expect(set.get(added[999]!)).toBe(999 * 4099);
    const pack: PackDescription = {
      id: randomId(),
      type: 'data',
      size: 100,
      blobs: [0, 1].map((i) => ({ id: randomId(), type: 'data', compression: 0, offset: i * 20, storedLength: 20, rawLength: 4 })),
    };
    set.addPack(pack, 0xffffffff);
    for (const blob of pack.blobs) expect(set.get(blob.id)).toBe(0xffffffff);
  });

  it('keeps several numbers with each id, and refuses a bad number before taking a slot', () => {
    const set = new SpilledIds({ dir, runIds: 8, words: 3 });
    sets.push(set);
    const added = Array.from({ length: 40 }, randomId);
    added.forEach((id, i) => set.addWords(id, [i, 0xffffffff - i, 7]));
    expect(set.runCount).toBe(5);
    const out = new Uint32Array(3);
    added.forEach((id, i) => {
      expect(set.getWords(id, out)).toBe(true);
      expect([...out]).toEqual([i, 0xffffffff - i, 7]);
    });
    expect(set.getWords(randomId(), out)).toBe(false);
    const before = set.blobCount;
    expect(() => set.addWords(randomId(), [1, -1, 2])).toThrow(/32-bit/);
    expect(() => set.addWords(randomId(), [1, 2])).toThrow(/3 kept/);
    expect(() => set.add(randomId(), 2 ** 32)).toThrow(/32-bit/);
    expect(set.blobCount).toBe(before);
  });

  it('finds nothing for what is not an id, and refuses to add it', () => {
    const set = make(1024);
    const real = randomId();
    set.add(real);
    // Buffer.write stops at the first character that is not hex: the probe must not keep `real`.
    for (const bad of [`${real.slice(0, 10)}zz${real.slice(12)}`, real.slice(0, 62), `${real}00`, '']) {
      expect(set.has(bad as Hex64), bad).toBe(false);
      expect(() => set.add(bad as Hex64)).toThrow(/not a blob id/);
    }
    expect(set.blobCount).toBe(1);
  });

  it('leaves no file behind, even while open', async () => {
    const set = make(4);
    for (let i = 0; i < 10; i++) set.add(randomId());
    expect(await readdir(dir)).toEqual([]);
    set.close();
    set.close();
  });

  it('refuses a run size that is not a power of two', () => {
    expect(() => new SpilledIds({ dir, runIds: 1000 })).toThrow(/power of two/);
    expect(() => new SpilledIds({ dir, runIds: 1 << 17 })).toThrow(/power of two/);
  });
});
