import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MasterIndex, SpilledIds } from '../../repository/index.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { knownWithoutMarked, withoutMarked } from './dedup-marks.ts';

const id = (): Hex64 => randomBytes(32).toString('hex') as Hex64;
const pack = (blobs: Hex64[]): PackDescription => ({
  id: id(),
  type: 'data',
  size: 100,
  blobs: blobs.map((b, i) => ({ id: b, type: 'data', compression: 0, offset: i * 20, storedLength: 20, rawLength: 4 })),
});

describe('knownWithoutMarked', () => {
  const [a, b, shared] = [id(), id(), id()];
  const kept = pack([a, shared]);
  const marked = pack([b, shared]);
  const index = new MasterIndex();
  index.addPack(kept);
  index.addPack(marked);

  it('is the index itself when nothing is marked, and makes no spill', () => {
    let made = 0;
    const known = knownWithoutMarked(index, new Set(), () => {
      made++;
      return new SpilledIds();
    });
    expect(known).toBe(index);
    expect(made).toBe(0);
  });

  it('knows what withoutMarked knows: blobs of unmarked packs, even those a marked pack holds too', () => {
    const spilled = new SpilledIds({ runIds: 2 });
    try {
      const known = knownWithoutMarked(index, new Set([marked.id]), () => spilled);
      expect(known).toBe(spilled);
      const reference = withoutMarked(index, new Set([marked.id]));
      for (const blob of [a, b, shared, id()]) expect(known.has(blob), blob).toBe(reference.has(blob));
      expect(known.has(b)).toBe(false);
      expect(known.has(shared)).toBe(true);
    } finally {
      spilled.close();
    }
  });
});
