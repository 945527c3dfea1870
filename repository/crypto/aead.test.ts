import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { open, seal, SEAL_PIECE, sealInPieces, TAG_LENGTH } from './aead.ts';

const zeros = (n: number): Buffer => Buffer.alloc(n);
const aad = Buffer.from('header');

describe('AES-256-GCM seal/open', () => {
  it('matches the GCM spec test cases 13 and 14 (256-bit key)', () => {
    expect(seal(zeros(32), zeros(12), zeros(0), zeros(0)).toString('hex')).toBe('530f8afbc74536b9a963b4f1c4cb738b');
    expect(seal(zeros(32), zeros(12), zeros(16), zeros(0)).toString('hex')).toBe(
      'cea7403d4d606b6e074ec5d3baf39d18' + 'd0d1c8a799996bf0265b98b5d48ab919',
    );
  });

  it('round-trips, and answers undefined for any change', () => {
    const key = Buffer.alloc(32, 7);
    const nonce = Buffer.alloc(12, 9);
    const sealed = seal(key, nonce, Buffer.from('hello world'), aad);
    expect(open(key, nonce, sealed, aad)?.toString()).toBe('hello world');
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = (bad[i] ?? 0) ^ 1;
      expect(open(key, nonce, bad, aad)).toBeUndefined();
    }
    expect(open(key, nonce, sealed, Buffer.from('other'))).toBeUndefined();
    expect(open(Buffer.alloc(32, 8), nonce, sealed, aad)).toBeUndefined();
    expect(open(key, Buffer.alloc(12, 1), sealed, aad)).toBeUndefined();
    expect(open(key, nonce, sealed.subarray(0, 10), aad)).toBeUndefined();
  });

  it('refuses keys and nonces of the wrong size', () => {
    expect(() => seal(zeros(16), zeros(12), zeros(1), aad)).toThrow(RangeError);
    expect(() => open(zeros(32), zeros(16), zeros(32), aad)).toThrow(RangeError);
  });
});

describe('sealInPieces', () => {
  it('gives exactly what seal() gives, in pieces of at most SEAL_PIECE bytes then the tag', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = Buffer.from('label');
    for (const length of [0, 1, SEAL_PIECE - 1, SEAL_PIECE, 3 * SEAL_PIECE + 5]) {
      const plain = randomBytes(length);
      const pieces: Buffer[] = [];
      sealInPieces(key, nonce, plain, aad, (piece) => pieces.push(Buffer.from(piece)));
      expect(pieces.every((p) => p.length <= SEAL_PIECE)).toBe(true);
      expect(pieces.at(-1)!.length).toBe(TAG_LENGTH);
      expect(Buffer.concat(pieces)).toEqual(seal(key, nonce, plain, aad));
    }
  });
});
