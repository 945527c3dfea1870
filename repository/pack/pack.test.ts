import { randomBytes } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { open, seal } from '../crypto/aead.ts';
import { sha256Hex } from '../crypto/hash.ts';
import { RootKey } from '../crypto/root-key.ts';
import { compressForStorage } from '../compress.ts';
import { FormatError, IntegrityError } from '../errors.ts';
import type { BlobType, PackDescription } from '../types.ts';
import { blobAad, blobNonce, encodeTrailer, HEADER_AAD, HEADER_NONCE } from './layout.ts';
import { decryptHeader, openBlob, packObjectName, parseTrailer, readPack, TRAILER_SIZE } from './reader.ts';
import { MAX_PACK_BLOBS, PackWriter } from './writer.ts';

const key = new RootKey(randomBytes(32), 'aa'.repeat(32));

interface Made {
  bytes: Buffer;
  description: PackDescription;
  plains: Map<string, Buffer>;
}

function makePack(k: RootKey, type: BlobType, plains: Buffer[]): Made {
  const writer = new PackWriter(k, type);
  const byId = new Map<string, Buffer>();
  for (const plain of plains) {
    const id = k.blobId(plain);
    const { bytes, compression } = compressForStorage(plain);
    writer.add(id, bytes, compression, plain.length);
    byId.set(id, plain);
  }
  const sizeBefore = writer.size;
  const { bytes, description } = writer.finish();
  expect(bytes.length).toBe(sizeBefore);
  return { bytes, description, plains: byId };
}

function mixedPlains(n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) out.push(randomBytes(1 + ((i * 977) % 5000)));
    else if (i % 3 === 1) out.push(Buffer.from(`line ${i},47.1,7.4,flood\n`.repeat(50 + i)));
    else out.push(i === 2 ? Buffer.alloc(0) : Buffer.from(`t${i}`)); // tiny, incl. empty: stored raw
  }
  return out;
}

/** Reads every blob with the ranged API, as a restore does. */
function readRanged(k: RootKey, bytes: Buffer, packId: string): Map<string, Buffer> {
  const name = packObjectName(packId);
  const tail = bytes.subarray(bytes.length - TRAILER_SIZE);
  const { salt, headerLength } = parseTrailer(tail, bytes.length, name);
  const start = bytes.length - TRAILER_SIZE - headerLength;
  const desc = decryptHeader(k, salt, bytes.subarray(start, start + headerLength), bytes.length, headerLength, packId, name);
  const out = new Map<string, Buffer>();
  for (const e of desc.blobs) out.set(e.id, openBlob(k, salt, e, bytes.subarray(e.offset, e.offset + e.storedLength), name));
  return out;
}

function readAll(k: RootKey, bytes: Buffer, packId: string): Map<string, Buffer> {
  const pack = readPack(k, bytes, packId);
  return new Map([...pack.blobs()].map((b) => [b.entry.id, b.plaintext]));
}

/** What an attacker without the key can do: rename the object after editing it. */
function renamed(bytes: Buffer): { bytes: Buffer; id: string } {
  return { bytes, id: sha256Hex(bytes) };
}

/** What an attacker with the key can do: rewrite the header. */
function withHeader(k: RootKey, made: Made, edit: (blobs: unknown[][]) => void): Buffer {
  const { salt, headerLength } = parseTrailer(made.bytes, made.bytes.length, 'x');
  const start = made.bytes.length - TRAILER_SIZE - headerLength;
  const plain = open(k.packKey(salt), HEADER_NONCE, made.bytes.subarray(start, start + headerLength), HEADER_AAD)!;
  const header = JSON.parse(plain.toString()) as { type: string; blobs: unknown[][] };
  edit(header.blobs);
  const sealed = seal(k.packKey(salt), HEADER_NONCE, Buffer.from(JSON.stringify(header)), HEADER_AAD);
  return Buffer.concat([made.bytes.subarray(0, start), sealed, encodeTrailer(salt, sealed.length)]);
}

function expectIntegrity(fn: () => unknown, packId: string, blobId?: string): void {
  let caught: unknown;
  let returned: unknown;
  try {
    returned = fn();
  } catch (err) {
    caught = err;
  }
  expect(returned).toBeUndefined();
  expect(caught).toBeInstanceOf(IntegrityError);
  const err = caught as IntegrityError;
  expect(err.object).toBe(packObjectName(packId));
  expect(err.message).toContain(packObjectName(packId));
  if (blobId !== undefined) expect(err.message).toContain(blobId);
}

describe('packs', () => {
  it('round-trips many blobs of both compressions, whole and ranged', () => {
    const made = makePack(key, 'data', mixedPlains(300));
    const { description: d, bytes } = made;
    expect(d.id).toBe(sha256Hex(bytes));
    expect(d.size).toBe(bytes.length);
    expect(d.blobs).toHaveLength(300);
    expect(new Set(d.blobs.map((b) => b.compression))).toEqual(new Set([0, 1]));
    expect(readAll(key, bytes, d.id)).toEqual(made.plains);
    expect(readRanged(key, bytes, d.id)).toEqual(made.plains);
    expect(readPack(key, bytes, d.id).description).toEqual(d);
  });

  it('lays out the trailer as documented', () => {
    const { bytes } = makePack(key, 'tree', [Buffer.from('{"nodes":[]}')]);
    const trailer = bytes.subarray(bytes.length - 44);
    expect(trailer.subarray(36, 44)).toEqual(Buffer.from([1, 0, 0, 0, 0x47, 0x52, 0x50, 0x4b]));
    const headerLength = trailer.readUInt32LE(32);
    expect(bytes.length).toBe(28 + headerLength + 44); // 12 bytes + tag, header, trailer
  });

  it('keeps packs of tree blobs apart from data blobs', () => {
    const made = makePack(key, 'tree', mixedPlains(5));
    const tampered = withHeader(key, made, (blobs) => {
      blobs[0]![1] = 0;
    });
    const r = renamed(tampered);
    expect(() => readPack(key, r.bytes, r.id)).toThrow(FormatError);
  });

  it('refuses a pack whose bytes do not match its name', () => {
    const made = makePack(key, 'data', mixedPlains(10));
    const bytes = Buffer.from(made.bytes);
    bytes[5]! ^= 1;
    expectIntegrity(() => readPack(key, bytes, made.description.id), made.description.id);
  });

  describe('tampering, each caught and never returning plaintext', () => {
    const made = makePack(key, 'data', mixedPlains(40));
    const victim = made.description.blobs[4]!;

    it('a flipped bit in a blob', () => {
      const bytes = Buffer.from(made.bytes);
      bytes[victim.offset + 3]! ^= 0x10;
      const r = renamed(bytes);
      expectIntegrity(() => [...readPack(key, r.bytes, r.id).blobs()], r.id, victim.id);
      expectIntegrity(() => readRanged(key, r.bytes, r.id), r.id, victim.id);
    });

    it('a flipped bit in the header', () => {
      const bytes = Buffer.from(made.bytes);
      bytes[bytes.length - TRAILER_SIZE - 20]! ^= 1;
      const r = renamed(bytes);
      expectIntegrity(() => readPack(key, r.bytes, r.id), r.id);
    });

    it('flipped bits in the trailer: salt, header length, reserved bytes, magic', () => {
      for (const at of [0, 31, 32, 33, 35, 37, 40, 43]) {
        const bytes = Buffer.from(made.bytes);
        bytes[bytes.length - TRAILER_SIZE + at]! ^= 0x01;
        const r = renamed(bytes);
        expectIntegrity(() => readPack(key, r.bytes, r.id), r.id);
      }
    });

    it('an unknown pack version is a FormatError naming the pack', () => {
      const bytes = Buffer.from(made.bytes);
      bytes[bytes.length - TRAILER_SIZE + 36] = 2;
      const r = renamed(bytes);
      expect(() => readPack(key, r.bytes, r.id)).toThrow(FormatError);
      expect(() => readPack(key, r.bytes, r.id)).toThrow(packObjectName(r.id));
    });

    it('a truncated pack, at either end', () => {
      for (const bytes of [made.bytes.subarray(0, made.bytes.length - 1), made.bytes.subarray(1), made.bytes.subarray(0, 30)]) {
        const r = renamed(Buffer.from(bytes));
        expectIntegrity(() => readPack(key, r.bytes, r.id), r.id);
      }
    });

    it("two blobs' bytes swapped inside the pack", () => {
      // Two blobs of equal stored size, so every offset in the header still holds.
      const bySize = new Map<number, (typeof made.description.blobs)[number]>();
      let pair: [typeof victim, typeof victim] | undefined;
      for (const e of made.description.blobs) {
        const other = bySize.get(e.storedLength);
        if (other !== undefined) pair = [other, e];
        bySize.set(e.storedLength, e);
      }
      const [a, b] = pair!;
      const bytes = Buffer.from(made.bytes);
      made.bytes.copy(bytes, a.offset, b.offset, b.offset + b.storedLength);
      made.bytes.copy(bytes, b.offset, a.offset, a.offset + a.storedLength);
      const r = renamed(bytes);
      expectIntegrity(() => [...readPack(key, r.bytes, r.id).blobs()], r.id, a.id);
    });

    it('a blob relabelled in a header re-encrypted with the key', () => {
      const other = made.description.blobs[5]!;
      const tampered = withHeader(key, made, (blobs) => {
        blobs[4]![0] = other.id;
        blobs[5]![0] = victim.id;
      });
      const r = renamed(tampered);
      expectIntegrity(() => [...readPack(key, r.bytes, r.id).blobs()], r.id, other.id);
    });

    it('a blob re-sealed under another id with the key', () => {
      const plain = made.plains.get(victim.id)!;
      const fakeId = 'ee'.repeat(32);
      const { salt } = parseTrailer(made.bytes, made.bytes.length, 'x');
      const resealed = seal(key.packKey(salt), blobNonce(victim.offset), plain, blobAad('data', 0, fakeId));
      // The entry a forged header or index would claim: authentic, but the content is not fakeId's.
      const entry = { ...victim, id: fakeId, compression: 0 as const, storedLength: resealed.length, rawLength: plain.length };
      const packId = made.description.id;
      expectIntegrity(() => openBlob(key, salt, entry, resealed, packObjectName(packId)), packId, fakeId);
    });

    it('a compressed blob whose announced length is a lie', () => {
      const plain = Buffer.alloc(100_000, 7);
      const id = key.blobId(plain);
      const stored = zstdCompressSync(plain);
      const writer = new PackWriter(key, 'data');
      writer.add(id, stored, 1, 1000); // a hostile writer announces 1000 bytes
      const { bytes, description } = writer.finish();
      expectIntegrity(() => [...readPack(key, bytes, description.id).blobs()], description.id, id);
    });

    it('headers of two packs swapped (no key needed)', () => {
      const second = makePack(key, 'data', mixedPlains(40));
      const split = (m: Made): { blobs: Buffer; rest: Buffer } => {
        const { headerLength } = parseTrailer(m.bytes, m.bytes.length, 'x');
        const start = m.bytes.length - TRAILER_SIZE - headerLength;
        return { blobs: m.bytes.subarray(0, start), rest: m.bytes.subarray(start) };
      };
      const a = split(made);
      const b = split(second);
      const r = renamed(Buffer.concat([a.blobs, b.rest]));
      expectIntegrity(() => [...readPack(key, r.bytes, r.id).blobs()], r.id);
    });

    it("a pack from another repository's key", () => {
      const stranger = new RootKey(randomBytes(32), 'bb'.repeat(32));
      const foreign = makePack(stranger, 'data', mixedPlains(5));
      expectIntegrity(() => readPack(key, foreign.bytes, foreign.description.id), foreign.description.id);
      expectIntegrity(() => readRanged(key, foreign.bytes, foreign.description.id), foreign.description.id);
    });
  });

  describe('PackWriter', () => {
    it('reports the exact finished size and bounds a pack with hasRoomFor', () => {
      const writer = new PackWriter(key, 'data');
      expect(writer.hasRoomFor(10_000_000, 1000)).toBe(true); // an empty pack takes any blob
      const plain = randomBytes(1000);
      writer.add(key.blobId(plain), plain, 0, plain.length);
      expect(writer.count).toBe(1);
      expect(writer.hasRoomFor(1000, writer.size + 1000)).toBe(false);
      expect(writer.hasRoomFor(1000, writer.size + 2000)).toBe(true);
      const size = writer.size;
      expect(writer.finish().bytes.length).toBe(size);
    });

    it('is full at the byte limit or at MAX_PACK_BLOBS blobs, whichever comes first', () => {
      const writer = new PackWriter(key, 'data');
      const one = (i: number): void => {
        const plain = Buffer.from(`blob ${i}`);
        writer.add(key.blobId(plain), plain, 0, plain.length);
      };
      one(0);
      expect(writer.isFull(writer.size + 1)).toBe(false);
      expect(writer.isFull(writer.size)).toBe(true);
      for (let i = 1; i < MAX_PACK_BLOBS - 1; i++) one(i);
      expect(writer.isFull(1 << 30)).toBe(false);
      expect(writer.hasRoomFor(10, 1 << 30)).toBe(true);
      one(MAX_PACK_BLOBS - 1);
      expect(writer.count).toBe(MAX_PACK_BLOBS);
      expect(writer.isFull(1 << 30)).toBe(true);
      expect(writer.hasRoomFor(10, 1 << 30)).toBe(false);
      const { bytes, description } = writer.finish();
      expect(readPack(key, bytes, description.id).description.blobs).toHaveLength(MAX_PACK_BLOBS);
    });

    it('refuses misuse', () => {
      const writer = new PackWriter(key, 'data');
      expect(() => writer.finish()).toThrow();
      const plain = randomBytes(10);
      const id = key.blobId(plain);
      expect(() => writer.add('AB'.repeat(32), plain, 0, 10)).toThrow(RangeError);
      expect(() => writer.add(id, plain, 0, 11)).toThrow(RangeError);
      writer.add(id, plain, 0, 10);
      expect(() => writer.add(id, plain, 0, 10)).toThrow();
      writer.finish();
      expect(() => writer.add(key.blobId(Buffer.from('x')), Buffer.from('x'), 0, 1)).toThrow();
    });
  });
});
