import { describe, expect, it } from 'vitest';
import type { ObjectRecord } from '../../../repository/s3-objects.ts';
import { unescapeName } from '../../../repository/source-names.ts';
import { decideReuse, layoutKeys, type ParentObject } from './layout.ts';

describe('layoutKeys: bucket listing to tree paths', () => {
  it('splits keys at / under the prefix and escapes each segment', () => {
    const paths = layoutKeys(['p/a/b.txt', 'p/a//b', 'p/./x', 'p/with space', 'p/d/', 'p/%', 'p/..'], 'p/');
    expect(paths.get('p/a/b.txt')).toEqual(['a', 'b.txt']);
    expect(paths.get('p/a//b')).toEqual(['a', '%', 'b']);
    expect(paths.get('p/./x')).toEqual(['%2E', 'x']);
    expect(paths.get('p/with space')).toEqual(['with space']);
    expect(paths.get('p/d/')).toEqual(['d', '%']);
    expect(paths.get('p/%')).toEqual(['%25']);
    expect(paths.get('p/..')).toEqual(['%2E%2E']);
    // Every segment unescapes back to the key's.
    for (const [key, segments] of paths) expect(segments.map((s) => unescapeName(s)).join('/')).toBe(key.slice(2));
  });

  it('stores an object whose path is also a folder as <name>%, which no key yields', () => {
    const paths = layoutKeys(['a', 'a/b', 'a%', 'x/y', 'x/y/z'], '');
    expect(paths.get('a')).toEqual(['a%']);
    expect(paths.get('a/b')).toEqual(['a', 'b']);
    expect(paths.get('a%')).toEqual(['a%25']);
    expect(paths.get('x/y')).toEqual(['x', 'y%']);
    expect(paths.get('x/y/z')).toEqual(['x', 'y', 'z']);
    const joined = [...paths.values()].map((s) => s.join('/'));
    expect(new Set(joined).size).toBe(joined.length);
  });

  it('refuses a key outside the prefix', () => {
    expect(() => layoutKeys(['q/a'], 'p/')).toThrow(RangeError);
  });
});

describe('decideReuse: whether an object is read again', () => {
  const record: ObjectRecord = { key: 'k', path: 'k', size: 10, etag: '"abc"', lastModified: '2026-01-01T00:00:00.000Z', metadata: {} };
  const parent: ParentObject = { record, content: ['b1', 'b2'] };
  const listed = { key: 'k', size: 10, etag: '"abc"', lastModified: '2026-01-01T00:00:00.000Z' };
  const all = (): boolean => true;

  it('reuses the blobs and headers of an unchanged object', () => {
    expect(decideReuse(listed, parent, all)).toEqual({ kind: 'reuse', content: ['b1', 'b2'], headers: 'parent' });
  });
  it('reuses the blobs but asks for the headers when only LastModified changed (a metadata copy)', () => {
    expect(decideReuse({ ...listed, lastModified: '2026-02-01T00:00:00.000Z' }, parent, all)).toMatchObject({ kind: 'reuse', headers: 'head' });
  });
  it('reads an object that is new, or changed in size or ETag', () => {
    expect(decideReuse(listed, undefined, all)).toEqual({ kind: 'read' });
    expect(decideReuse({ ...listed, size: 11 }, parent, all)).toEqual({ kind: 'read' });
    expect(decideReuse({ ...listed, etag: '"abd"' }, parent, all)).toEqual({ kind: 'read' });
    expect(decideReuse({ ...listed, etag: '' }, { ...parent, record: { ...record, etag: '' } }, all)).toEqual({ kind: 'read' });
  });
  it('reads an object whose parent blobs the repository no longer holds', () => {
    expect(decideReuse(listed, parent, (id) => id !== 'b2')).toEqual({ kind: 'read' });
  });
});
