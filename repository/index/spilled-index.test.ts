import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hex64, PackDescription, PackEntry } from '../types.ts';
import { MasterIndex } from './master-index.ts';
import { SpilledIndex } from './spilled-index.ts';

const randomId = (): Hex64 => randomBytes(32).toString('hex') as Hex64;

/** A pack of `count` blobs with varied types, compression and offsets (some past 4 GiB). */
function pack(count: number, type: 'data' | 'tree', base = 0): PackDescription {
  const blobs: PackEntry[] = [];
  for (let i = 0; i < count; i++) {
    blobs.push({ id: randomId(), type, compression: i % 2 === 0 ? 1 : 0, offset: base + i * 1000, storedLength: 16 + i, rawLength: i % 2 === 0 ? 100 + i : i });
  }
  return { id: randomId(), type, size: base + count * 1000, blobs };
}

describe('SpilledIndex', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spilled-index-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every lookup as the MasterIndex does, from memory and from its runs', () => {
    const spilled = new SpilledIndex({ dir, runIds: 64 });
    try {
      const master = new MasterIndex();
      const packs = [pack(100, 'data'), pack(50, 'tree'), pack(200, 'data', 2 ** 32 + 12345), pack(30, 'data', 2 ** 40)];
      for (const p of packs) {
        spilled.addPack(p);
        master.addPack(p);
        spilled.addPack(p); // again: changes nothing
      }
      expect(spilled.packCount).toBe(4);
      for (const p of packs) {
        expect(spilled.hasPack(p.id)).toBe(true);
        for (const blob of p.blobs) {
          expect(spilled.has(blob.id)).toBe(true);
          expect(spilled.lookup(blob.id)).toEqual(master.lookup(blob.id));
        }
      }
      const stranger = randomId();
      expect(spilled.has(stranger)).toBe(false);
      expect(spilled.lookup(stranger)).toBeUndefined();
      expect(spilled.lookup('not an id' as Hex64)).toBeUndefined();
      expect(spilled.hasPack(stranger)).toBe(false);
    } finally {
      spilled.close();
    }
  });
});
