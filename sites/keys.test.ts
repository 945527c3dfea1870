import { describe, expect, it } from 'vitest';
import { PermanentError } from './errors.ts';
import { assertValidKey, assertValidPrefix, keyProblem } from './keys.ts';

describe('object keys', () => {
  it.each(['config', 'data/ab/ab12', 'keys/k-1.json', 'snapshots/2026_01_01'])('accepts %s', (key) => {
    expect(keyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['a//b', 'empty segment'],
    ['/a', 'empty segment'],
    ['a/', 'empty segment'],
    ['..', "'..' segment"],
    ['a/./b', "'.' segment"],
    ['a b', 'character outside'],
    ['a\0b', 'character outside'],
    ['a\\b', 'character outside'],
    ['x'.repeat(513), 'longer than'],
  ])('refuses %j', (key, why) => {
    expect(keyProblem(key)).toContain(why);
    expect(() => assertValidKey(key, 'site-a')).toThrow(PermanentError);
  });

  it('accepts prefixes that end in a slash or a partial segment', () => {
    for (const p of ['', 'data/', 'data/a', 'data/ab/']) expect(() => assertValidPrefix(p, 's')).not.toThrow();
    expect(() => assertValidPrefix('../', 's')).toThrow(PermanentError);
  });
});
