// Node's argon2id and hash-wasm's must be the same function: a key file made under one Node opens
// under another. Checked against each other and against fixed outputs (made with hash-wasm, so a
// change of either library that changed the function would show).
import { describe, expect, it } from 'vitest';
import { argon2id, nativeArgon2 } from './argon2id.ts';

const base = {
  password: Buffer.from('correct horse battery staple', 'utf8'),
  salt: Buffer.from('georep argon2id test salt 32 b!!', 'utf8'),
  hashLength: 32,
};
const VECTORS = [
  { memoryKiB: 19456, iterations: 2, parallelism: 1, hex: 'c0b17c0e0a392c9bdc3cf338a042675e98b530795d4b5eb82d58c5d9c2acf9c3' },
  { memoryKiB: 20000, iterations: 3, parallelism: 2, hex: 'dbfa029eb220083d425b349d5ebfbcbcc768b7fb72ca0ea231cca74aed842a53' },
];

describe('argon2id', () => {
  it('uses Node\'s own implementation on this Node (>= 24.7)', () => {
    expect(nativeArgon2()).toBe(true);
  });

  for (const v of VECTORS) {
    it(`gives the same key natively and in WebAssembly (${v.memoryKiB} KiB x ${v.iterations}, ${v.parallelism} lanes)`, async () => {
      const input = { ...base, memoryKiB: v.memoryKiB, iterations: v.iterations, parallelism: v.parallelism };
      const [native, wasm] = await Promise.all([argon2id(input, 'native'), argon2id(input, 'wasm')]);
      expect(native.toString('hex')).toBe(v.hex);
      expect(wasm.toString('hex')).toBe(v.hex);
      expect((await argon2id(input)).toString('hex')).toBe(v.hex);
    });
  }

  it('depends on the password and the salt', async () => {
    const input = { ...base, memoryKiB: 19456, iterations: 2, parallelism: 1 };
    const a = await argon2id(input);
    const b = await argon2id({ ...input, password: Buffer.from('correct horse battery stapler') });
    const c = await argon2id({ ...input, salt: Buffer.from('georep argon2id test salt 32 b!?') });
    expect(a.equals(b)).toBe(false);
    expect(a.equals(c)).toBe(false);
  });
});
