import { describe, expect, it } from 'vitest';
import { KeyPaths } from './s3-layout.ts';

describe('KeyPaths: stored paths decided while the listing streams', () => {
  it('decides most keys at the next key, and holds a key only until the listing passes k/', () => {
    const paths = new KeyPaths<number>('');
    expect(paths.push('a.txt', 1)).toEqual([]);
    expect(paths.push('b', 2)).toEqual([{ key: 'a.txt', item: 1, segments: ['a.txt'] }]);
    // `b` may yet be a folder: b-1 and b.x sort between b and b/.
    expect(paths.push('b-1', 3)).toEqual([]);
    expect(paths.push('b.x', 4)).toEqual([]);
    expect(paths.size).toBe(3);
    expect(paths.push('b/inner', 5)).toEqual([
      { key: 'b', item: 2, segments: ['b%'] },
      { key: 'b-1', item: 3, segments: ['b-1'] },
      { key: 'b.x', item: 4, segments: ['b.x'] },
    ]);
    expect(paths.push('c', 6)).toEqual([{ key: 'b/inner', item: 5, segments: ['b', 'inner'] }]);
    expect(paths.finish()).toEqual([{ key: 'c', item: 6, segments: ['c'] }]);
  });

  it('decides "not a folder" as soon as a key sorts after k/', () => {
    const paths = new KeyPaths<null>('p/');
    paths.push('p/x', null);
    paths.push('p/x-1', null);
    expect(paths.push('p/x0', null).map((d) => d.segments)).toEqual([['x'], ['x-1']]);
  });

  it('refuses a listing out of order, a repeated key, a key outside the prefix', () => {
    const paths = new KeyPaths<null>('p/');
    paths.push('p/b', null);
    expect(() => paths.push('p/a', null)).toThrow(/not in ascending key order/);
    expect(() => paths.push('p/b', null)).toThrow(/not in ascending key order/);
    expect(() => paths.push('q/c', null)).toThrow(/is not under/);
  });
});
