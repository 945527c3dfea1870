import { describe, expect, it } from 'vitest';
import { escapeName, unescapeName } from './source-names.ts';
import { nameProblem } from './tree-node.ts';

describe('names for databases and S3 key segments', () => {
  it('leave ordinary names alone', () => {
    for (const n of ['cases', 'shelter-capacity_2026', 'tile.png', 'Ünïcode 名前', '...', '.hidden', 'a.']) {
      expect(escapeName(n).toString('utf8')).toBe(n);
      expect(unescapeName(escapeName(n))).toBe(n);
    }
  });

  it('escape what a tree name may not be or hold, reversibly', () => {
    const cases: [string, string][] = [
      ['', '%'],
      ['.', '%2E'],
      ['..', '%2E%2E'],
      ['a\0b', 'a%00b'],
      ['a/b', 'a%2Fb'],
      ['100%', '100%25'],
      ['%2E', '%252E'],
      ['%', '%25'],
    ];
    for (const [name, stored] of cases) {
      expect(escapeName(name).toString('utf8'), JSON.stringify(name)).toBe(stored);
      expect(nameProblem(escapeName(name)), JSON.stringify(name)).toBeUndefined();
      expect(unescapeName(stored)).toBe(name);
    }
  });

  it('refuse stored names escaping could not have made', () => {
    for (const bad of ['a%', '%41', '%2e', 'x%2E', '%2E%2E%2E']) expect(() => unescapeName(bad), bad).toThrow(RangeError);
  });
});
