import { describe, expect, it } from 'vitest';
import { deriveKey } from './hkdf.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('deriveKey (HKDF-SHA256)', () => {
  it('matches RFC 5869 test case 1', () => {
    const info = String.fromCharCode(...hex('f0f1f2f3f4f5f6f7f8f9'));
    const okm = deriveKey(Buffer.alloc(22, 0x0b), hex('000102030405060708090a0b0c'), info, 42);
    expect(okm.toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('matches RFC 5869 test case 3 (empty salt and info, as the blob-id and gear keys use)', () => {
    const okm = deriveKey(Buffer.alloc(22, 0x0b), new Uint8Array(0), '', 42);
    expect(okm.toString('hex')).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });
});
