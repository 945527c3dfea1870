import { randomBytes } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { seal } from './crypto/aead.ts';
import { RootKey } from './crypto/root-key.ts';
import { FormatError, IntegrityError } from './errors.ts';
import { decodeObject, encodeObject, OBJECT_LIMITS, type ObjectType } from './object-codec.ts';

const key = new RootKey(randomBytes(32), randomBytes(32).toString('hex'));
const NAME = 'snapshots/0123';

/** An object sealed by hand, as an independent writer following FORMAT.md would. */
function handMade(type: number, plaintext: Buffer, k = key): Buffer {
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const header = Buffer.concat([Buffer.from('GRO1'), Buffer.of(type), salt, nonce]);
  return Buffer.concat([header, seal(k.objectKey(salt), nonce, plaintext, header)]);
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('encrypted objects', () => {
  it('round-trip every type', () => {
    const value = { version: 1, paths: ['/srv/ü'], n: 42, nested: { a: [true, null] } };
    for (const type of ['config', 'index', 'snapshot'] as ObjectType[]) {
      expect(decodeObject(key, type, encodeObject(key, type, value), NAME)).toEqual(value);
    }
  });

  it('compress when it pays, and store small values raw', () => {
    const big = { blobs: Array.from({ length: 2000 }, (_, i) => ['aa'.repeat(32), 0, 1, i, 100, 200]) };
    const stored = encodeObject(key, 'index', big);
    expect(stored.length).toBeLessThan(JSON.stringify(big).length / 4);
    expect(decodeObject(key, 'index', stored, NAME)).toEqual(big);
    const small = encodeObject(key, 'config', { a: 1 });
    expect(small.length).toBe(4 + 1 + 32 + 12 + 1 + JSON.stringify({ a: 1 }).length + 16);
  });

  it('read objects sealed by an independent writer', () => {
    const raw = handMade(3, Buffer.concat([Buffer.of(0), Buffer.from('{"x":1}')]));
    expect(decodeObject(key, 'snapshot', raw, NAME)).toEqual({ x: 1 });
    const zstd = handMade(2, Buffer.concat([Buffer.of(1), zstdCompressSync(Buffer.from('[1,2,3]'))]));
    expect(decodeObject(key, 'index', zstd, NAME)).toEqual([1, 2, 3]);
  });

  it('use a fresh salt and nonce every time', () => {
    const a = encodeObject(key, 'snapshot', { same: true });
    const b = encodeObject(key, 'snapshot', { same: true });
    expect(a.subarray(5, 49).equals(b.subarray(5, 49))).toBe(false);
  });

  it('refuse any flipped bit with IntegrityError naming the object', () => {
    const stored = encodeObject(key, 'config', { version: 1, id: 'ab'.repeat(32) });
    for (let i = 0; i < stored.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(stored);
        bad[i] = (bad[i] ?? 0) ^ (1 << bit);
        const err = caught(() => decodeObject(key, 'config', bad, 'config'));
        // The one exception: "GRO1" turned into "GRO<another digit>" reads as a later format version.
        const laterVersion = i === 3 && /[0-9]/.test(String.fromCharCode(bad[3] ?? 0));
        expect(err, `byte ${i} bit ${bit}`).toBeInstanceOf(laterVersion ? FormatError : IntegrityError);
        expect(err).toMatchObject({ object: 'config', message: expect.stringContaining('config') });
      }
    }
  });

  it('refuse truncation, another key and another type', () => {
    const stored = encodeObject(key, 'index', { a: 1 });
    expect(caught(() => decodeObject(key, 'index', stored.subarray(0, 60), NAME))).toBeInstanceOf(IntegrityError);
    expect(caught(() => decodeObject(key, 'index', stored.subarray(0, -1), NAME))).toBeInstanceOf(IntegrityError);
    const other = new RootKey(randomBytes(32), key.repositoryId);
    expect(caught(() => decodeObject(other, 'index', stored, NAME))).toBeInstanceOf(IntegrityError);
    const misplaced = caught(() => decodeObject(key, 'snapshot', stored, NAME));
    expect(misplaced).toBeInstanceOf(IntegrityError);
    expect(String(misplaced)).toMatch(/index object where a snapshot object belongs/);
  });

  it('refuse a stored size above the type bound before decrypting', () => {
    const big = Buffer.concat([encodeObject(key, 'config', { a: 1 }), Buffer.alloc(OBJECT_LIMITS.config)]);
    expect(String(caught(() => decodeObject(key, 'config', big, 'config')))).toMatch(/more than a config object may be/);
  });

  it('refuse an authenticated zstd bomb without expanding it past the bound', () => {
    // 64 MiB of spaces in a valid JSON string compresses to a few KiB; a config may be 64 KiB.
    const json = Buffer.concat([Buffer.from('"'), Buffer.alloc(64 * 1024 * 1024, 0x20), Buffer.from('"')]);
    const bomb = handMade(1, Buffer.concat([Buffer.of(1), zstdCompressSync(json)]));
    expect(bomb.length).toBeLessThan(OBJECT_LIMITS.config);
    const before = process.memoryUsage().arrayBuffers;
    const err = caught(() => decodeObject(key, 'config', bomb, 'config'));
    expect(err).toBeInstanceOf(FormatError);
    expect(String(err)).toMatch(/decompresses to more than 65536 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuse authenticated content this version cannot read with FormatError', () => {
    const cases = [
      handMade(3, Buffer.concat([Buffer.of(2), Buffer.from('{}')])),
      handMade(3, Buffer.concat([Buffer.of(1), Buffer.from('not zstd')])),
      handMade(3, Buffer.concat([Buffer.of(0), Buffer.from('{not json')])),
      handMade(3, Buffer.concat([Buffer.of(0), Buffer.from([0x22, 0xff, 0x22])])),
    ];
    for (const bytes of cases) {
      const err = caught(() => decodeObject(key, 'snapshot', bytes, NAME));
      expect(err).toBeInstanceOf(FormatError);
      expect(err).toMatchObject({ object: NAME });
    }
    const later = Buffer.from(encodeObject(key, 'snapshot', {}));
    later.write('GRO2', 0, 'latin1');
    expect(String(caught(() => decodeObject(key, 'snapshot', later, NAME)))).toMatch(/upgrade|GRO2/);
  });

  it('are never written above the bound', () => {
    expect(() => encodeObject(key, 'config', { pad: 'x'.repeat(OBJECT_LIMITS.config) })).toThrow(RangeError);
  });
});
