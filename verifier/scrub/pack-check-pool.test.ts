import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import { PackWriter } from '../../repository/pack/writer.ts';
import { PackCheckPool } from './pack-check-pool.ts';

const key = new RootKey(randomBytes(32), 'aa'.repeat(32));

function packOf(k: RootKey, blobs: number): Buffer {
  const writer = new PackWriter(k, 'data');
  for (let i = 0; i < blobs; i++) {
    const plain = Buffer.from(`shelter ${i}, beds ${i * 7}\n`.repeat(50 + i));
    writer.add(k.blobId(plain), plain, 0, plain.length);
  }
  return Buffer.from(writer.finish().bytes);
}

describe('pack checker threads', () => {
  const pool = new PackCheckPool({ rootKey: key.exportRaw(), repositoryId: key.repositoryId });
  afterAll(() => pool.close());

  it('find a sound pack sound, with every blob read', async () => {
    const bytes = packOf(key, 5);
    expect(await pool.check(sha256Hex(bytes), bytes)).toEqual({ kind: 'sound', blobs: 5 });
  });

  it('tell bytes that are not the named pack (a flipped bit) from a pack that does not open', async () => {
    const bytes = packOf(key, 3);
    const name = sha256Hex(bytes);
    const flipped = Buffer.from(bytes);
    flipped[100]! ^= 1;
    const verdict = await pool.check(name, flipped);
    expect(verdict).toEqual({ kind: 'misnamed', hash: sha256Hex(flipped) });

    // Named by its own hash, but sealed under another repository's key: it does not authenticate.
    const stranger = packOf(new RootKey(randomBytes(32), 'bb'.repeat(32)), 2);
    const damaged = await pool.check(sha256Hex(stranger), stranger);
    expect(damaged.kind).toBe('damaged');
    if (damaged.kind === 'damaged') expect(damaged.detail).toContain(`data/${sha256Hex(stranger).slice(0, 2)}/`);
  });

  it('check many packs at once, each answered with its own verdict', async () => {
    const packs = Array.from({ length: 12 }, (_, i) => packOf(key, 1 + (i % 4)));
    const names = packs.map((p) => sha256Hex(p));
    const verdicts = await Promise.all(packs.map((p, i) => pool.check(i % 5 === 0 ? 'ff'.repeat(32) : names[i]!, p)));
    verdicts.forEach((v, i) => expect(v.kind).toBe(i % 5 === 0 ? 'misnamed' : 'sound'));
  });
});
