import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { DEFAULT_KDF, MIN_KDF } from '../repository/keyfile.ts';
import { kdfFromArgs } from './kdf-options.ts';

describe('KDF flags', () => {
  it('default to DEFAULT_KDF and accept the minimums', () => {
    expect(kdfFromArgs({})).toEqual(DEFAULT_KDF);
    expect(kdfFromArgs({ 'kdf-memory': '19MiB', 'kdf-iterations': 2 })).toEqual(MIN_KDF);
  });

  it('refuse values below the minimums or above the maximums', () => {
    for (const args of [{ 'kdf-memory': '16MiB' }, { 'kdf-iterations': 1 }, { 'kdf-memory': '8GiB' }, { 'kdf-memory': '19457KiB', 'kdf-iterations': 65 }, { 'kdf-memory': '1000000' }]) {
      expect(() => kdfFromArgs(args)).toThrow(UsageError);
    }
  });
});
