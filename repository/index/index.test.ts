import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RootKey } from '../crypto/root-key.ts';
import { FormatError } from '../errors.ts';
import { PackWriter } from '../pack/writer.ts';
import type { PackDescription } from '../types.ts';
import { decodeIndex, encodeIndex, MasterIndex } from '../index.ts';

const key = new RootKey(randomBytes(32), 'aa'.repeat(32));

function pack(type: 'data' | 'tree', n: number, plains: Buffer[] = []): PackDescription {
  const writer = new PackWriter(key, type);
  for (let i = 0; i < n; i++) {
    const plain = plains[i] ?? randomBytes(10 + i);
    writer.add(key.blobId(plain), plain, 0, plain.length);
  }
  return writer.finish().description;
}

/** An index value as it comes out of JSON.parse. */
function roundTrip(packs: PackDescription[]): unknown {
  return JSON.parse(JSON.stringify(encodeIndex(packs))) as unknown;
}

function mutated(edit: (value: { version: unknown; packs: Record<string, unknown>[] }) => void): unknown {
  const value = roundTrip([pack('data', 3), pack('tree', 2)]) as { version: unknown; packs: Record<string, unknown>[] };
  edit(value);
  return value;
}

describe('index objects', () => {
  it('round-trip pack descriptions exactly', () => {
    const packs = [pack('data', 50), pack('tree', 3)];
    expect(decodeIndex(roundTrip(packs), 'index/x')).toEqual(packs);
    const encoded = encodeIndex(packs);
    expect(encoded.version).toBe(1);
    expect(encoded.packs[0]!.blobs[0]).toEqual([packs[0]!.blobs[0]!.id, 0, 0, 0, 26, 10]);
  });

  it('refuse anything off the format, naming the object', () => {
    const bad: [string, (v: { version: unknown; packs: Record<string, unknown>[] }) => void][] = [
      ['version 2', (v) => (v.version = 2)],
      ['unknown field', (v) => (v.packs[0]!.extra = 1)],
      ['missing field', (v) => delete v.packs[0]!.size],
      ['bad pack id', (v) => (v.packs[0]!.id = 'AB'.repeat(32))],
      ['bad type', (v) => (v.packs[0]!.type = 'blob')],
      ['pack listed twice', (v) => v.packs.push(v.packs[0]!)],
      ['tree blob in a data pack', (v) => ((v.packs[0]!.blobs as unknown[][])[0]![1] = 1)],
      ['gap between blobs', (v) => ((v.packs[0]!.blobs as unknown[][])[1]![3] = 1000)],
      ['blobs past the pack end', (v) => (v.packs[0]!.size = 100)],
      ['entry too short', (v) => (v.packs[0]!.blobs as unknown[][])[0]!.pop()],
      ['negative length', (v) => ((v.packs[0]!.blobs as unknown[][])[0]![5] = -1)],
      ['fractional offset', (v) => ((v.packs[0]!.blobs as unknown[][])[0]![3] = 0.5)],
      ['unknown compression', (v) => ((v.packs[0]!.blobs as unknown[][])[0]![2] = 2)],
      ['stored length not raw + tag', (v) => ((v.packs[0]!.blobs as unknown[][])[0]![5] = 3)],
      ['duplicate blob', (v) => ((v.packs[0]!.blobs as unknown[][])[1]![0] = (v.packs[0]!.blobs as unknown[][])[0]![0])],
      ['not an object', (v) => ((v as unknown as unknown[]).length = 0)],
    ];
    for (const [what, edit] of bad) {
      const fn = (): unknown => decodeIndex(mutated(edit), 'index/abc');
      expect(fn, what).toThrow(FormatError);
      expect(fn, what).toThrow('index/abc');
    }
    expect(() => decodeIndex([], 'index/abc')).toThrow(FormatError);
    expect(() => decodeIndex(null, 'index/abc')).toThrow(FormatError);
  });
});

describe('MasterIndex', () => {
  it('finds every blob of every pack added, across pages of slots', () => {
    // 9,220 slots: three pages, the last pack straddling two of them.
    const packs = [pack('data', 200), pack('tree', 20), pack('data', 5000), pack('data', 4000)];
    const index = new MasterIndex();
    for (const p of packs) index.addPack(p);
    expect(index.blobCount).toBe(9220);
    for (const p of packs) {
      for (const e of p.blobs) {
        expect(index.has(e.id)).toBe(true);
        expect(index.lookup(e.id)).toEqual({ pack: p.id, entry: e });
        expect(index.packHolding(e.id)).toBe(p.id);
      }
    }
    expect(index.has('00'.repeat(32))).toBe(false);
    expect(index.lookup('ff'.repeat(32))).toBeUndefined();
    expect(index.packHolding('ff'.repeat(32))).toBeUndefined();
    expect(index.packHolding('not hex')).toBeUndefined();
    expect([...index.blobIds()]).toEqual(packs.flatMap((p) => p.blobs.map((b) => b.id)));
    expect(index.has('not hex')).toBe(false);
    expect([...index.packs()]).toEqual(packs);
  });

  it('keeps the first location of a blob stored twice, and every pack whole', () => {
    const shared = [Buffer.from('a'), Buffer.from('b')];
    const first = pack('data', 2, shared);
    const second = pack('data', 3, [Buffer.from('c'), ...shared]);
    const index = new MasterIndex();
    index.addPack(first);
    index.addPack(second);
    index.addPack(first); // again: no change
    expect(index.blobCount).toBe(3);
    expect(index.packCount).toBe(2);
    expect(index.lookup(key.blobId(shared[1]!))!.pack).toBe(first.id);
    expect(index.lookup(key.blobId(Buffer.from('c')))!.pack).toBe(second.id);
    expect([...index.packs()]).toEqual([first, second]);
    expect(index.hasPack(second.id)).toBe(true);
    // Every stored id, in pack order, as packs() would list them.
    expect([...index.blobIds()]).toEqual([...first.blobs, ...second.blobs].map((b) => b.id));
  });

  it('gives back one pack by its id as it was added, compression and type included', () => {
    const data = pack('data', 3);
    const tree = pack('tree', 2);
    const writer = new PackWriter(key, 'data');
    const plain = randomBytes(50);
    writer.add(key.blobId(plain), plain.subarray(0, 20), 1, plain.length);
    const compressed = writer.finish().description;
    const index = new MasterIndex();
    for (const p of [data, tree, compressed]) index.addPack(p);
    expect(index.pack(tree.id)).toEqual(tree);
    expect(index.pack(compressed.id)).toEqual(compressed);
    expect(index.pack(data.id)).toEqual(data);
    expect(index.pack('bb'.repeat(32))).toBeUndefined();
    expect([...index.packIdList()]).toEqual([data.id, tree.id, compressed.id]);
  });

  it('holds a million blobs in little memory', () => {
    const index = new MasterIndex();
    const ids: string[] = [];
    const perPack = 10_000;
    // Full collections before both readings (gc() fetched as core/gc.ts does), so the difference
    // is what the index keeps, not whatever garbage V8 had yet to collect at that moment.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = (): number => {
      gc();
      return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    };
    const before = used();
    for (let p = 0; p < 100; p++) {
      const blobs = [];
      for (let i = 0; i < perPack; i++) {
        const id = randomBytes(32).toString('hex');
        if (i % 1000 === 0) ids.push(id);
        blobs.push({ id, type: 'data' as const, compression: 1 as const, offset: i * 100, storedLength: 100, rawLength: 200 });
      }
      index.addPack({ id: randomBytes(32).toString('hex'), type: 'data', size: perPack * 100 + 1000, blobs });
    }
    const after = used();
    expect(index.blobCount).toBe(1_000_000);
    for (const id of ids) expect(index.lookup(id)?.entry.id).toBe(id);
    expect((after - before) / 1_000_000).toBeLessThan(100);
  });
});
