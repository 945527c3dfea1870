import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunker } from '../../repository/chunker/fastcdc.ts';
import { RootKey } from '../../repository/crypto/root-key.ts';
import { readPack } from '../../repository/pack/reader.ts';
import type { Hex64, PackDescription } from '../../repository/types.ts';
import { StreamChunker } from './stream-chunker.ts';

const SIZES = { min: 4096, avg: 16384, max: 65536 };
const key = new RootKey(randomBytes(32), 'ab'.repeat(32));

/** The chunk ids of `data` cut in one piece, as the file workers cut a file. */
function wholeIds(data: Buffer): Hex64[] {
  const chunker = new Chunker(key.gearTable(), SIZES);
  const ids: Hex64[] = [];
  for (let start = 0; start < data.length; ) {
    const n = chunker.findBoundary(data, start, data.length, true);
    ids.push(key.blobId(data.subarray(start, start + n)));
    start += n;
  }
  return ids;
}

function* pieces(data: Buffer): Iterable<Buffer> {
  for (let at = 0; at < data.length; ) {
    const n = 1 + Math.floor(Math.random() * 300_000);
    yield data.subarray(at, at + n);
    at += n;
  }
}

describe('StreamChunker', () => {
  it('cuts a stream in any pieces exactly as a whole file, stores each new chunk once, and packs them readably', async () => {
    const packs: { bytes: Uint8Array; description: PackDescription }[] = [];
    // The index of what is stored, as the snapshot's storePack keeps it.
    const stored = new Set<Hex64>();
    const sc = new StreamChunker({
      key,
      chunker: SIZES,
      packSize: 256 * 1024,
      isKnown: (id) => stored.has(id),
      storePack: async (bytes, description) => {
        packs.push({ bytes: Buffer.from(bytes), description });
        for (const b of description.blobs) stored.add(b.id);
      },
    });
    const data = Buffer.concat([randomBytes(3_000_000), Buffer.alloc(500_000, 7)]);
    const first = await sc.chunk(pieces(data));
    expect(first.size).toBe(data.length);
    expect(first.content).toEqual(wholeIds(data));
    // The same bytes again (a second dump of an unchanged table): nothing new.
    const again = await sc.chunk(pieces(data));
    expect(again.content).toEqual(first.content);
    expect(again.newBytes).toBe(0);
    await sc.flush();
    const ids = packs.flatMap((p) => p.description.blobs.map((b) => b.id));
    expect(new Set(ids)).toEqual(new Set(first.content));
    expect(ids.length).toBe(new Set(ids).size);
    expect(packs.length).toBeGreaterThan(1);
    const plain = new Map<Hex64, Buffer>();
    for (const p of packs) for (const b of readPack(key, Buffer.from(p.bytes), p.description.id).blobs()) plain.set(b.entry.id, b.plaintext);
    expect(Buffer.concat(first.content.map((id) => plain.get(id)!)).equals(data)).toBe(true);
    expect((await sc.chunk([])).content).toEqual([]);
  });
});
