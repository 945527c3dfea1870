import { describe, expect, it } from 'vitest';
import { FormatError } from './errors.ts';
import { makeSnapshot, validateSnapshot } from './snapshot.ts';

const TREE = 'ab'.repeat(32);

function manifest(): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(
      makeSnapshot({
        time: new Date(Date.UTC(2026, 10, 26, 18, 0, 0, 123)),
        host: 'ops-1',
        user: 'ops',
        paths: ['/srv/gis/flood'],
        tree: TREE,
        summary: { files: 20150, dirs: 310, bytes: 1073741824, newBytes: 0, storedBytes: 0 },
        program: 'georep 0.1.0',
      }),
    ),
  ) as Record<string, unknown>;
}

describe('snapshot manifests', () => {
  it('are built in the documented shape and order, and validate', () => {
    const m = manifest();
    expect(Object.keys(m)).toEqual(['version', 'time', 'host', 'user', 'paths', 'tags', 'tree', 'parent', 'source', 'summary', 'program']);
    expect(m.time).toBe('2026-11-26T18:00:00.123Z');
    expect(m.parent).toBeNull();
    expect(m.tags).toEqual([]);
    expect(validateSnapshot(m, 'snapshots/x')).toEqual(m);
    expect(validateSnapshot({ ...m, parent: 'cd'.repeat(32), tags: ['daily'] }, 'snapshots/x').parent).toBe('cd'.repeat(32));
  });

  it('describe databases and buckets, with their locations as paths', () => {
    const pg = { ...manifest(), paths: ['postgres://db.example:5432/cases'], source: { type: 'postgres', databases: ['cases'], serverVersion: '15.10' } };
    expect(validateSnapshot(pg, 'snapshots/x').source).toEqual({ type: 'postgres', databases: ['cases'], serverVersion: '15.10' });
    const s3 = { ...manifest(), paths: ['s3://imagery/tiles/'], source: { type: 's3', bucket: 'imagery', prefix: 'tiles/' } };
    expect(validateSnapshot(s3, 'snapshots/x').source).toEqual({ type: 's3', bucket: 'imagery', prefix: 'tiles/' });
  });

  it('refuse anything off the format, naming the object', () => {
    const bad: [string, (m: Record<string, unknown>) => void, string][] = [
      ['version 2', (m) => (m.version = 2), 'version 2 is not supported'],
      ['no version', (m) => delete m.version, 'missing field "version"'],
      ['unknown field', (m) => (m.extra = 1), 'unknown field "extra"'],
      ['missing parent', (m) => delete m.parent, 'missing field "parent"'],
      ['relative path', (m) => (m.paths = ['srv/gis']), 'not an absolute path'],
      ['no paths', (m) => (m.paths = []), 'paths is empty'],
      ['bad tree', (m) => (m.tree = TREE.toUpperCase()), 'tree'],
      ['bad parent', (m) => (m.parent = ''), 'parent'],
      ['bad time', (m) => (m.time = 'yesterday'), 'time'],
      ['bad source', (m) => (m.source = { type: 'ftp' }), 'unknown source type "ftp"'],
      ['postgres without databases', (m) => (m.source = { type: 'postgres', serverVersion: '15.1' }), 'missing field "databases"'],
      ['postgres, no database', (m) => (m.source = { type: 'postgres', databases: [], serverVersion: '15.1' }), 'databases is empty'],
      ['s3 with credentials', (m) => (m.source = { type: 's3', bucket: 'b', prefix: '', credentials: 'x' }), 'unknown field "credentials"'],
      ['postgres path with a password', (m) => {
        m.source = { type: 'postgres', databases: ['cases'], serverVersion: '15.1' };
        m.paths = ['postgres://ops:secret@db:5432/cases'];
      }, 'must not hold a user, password or query'],
      ['postgres source with a folder path', (m) => (m.source = { type: 'postgres', databases: ['cases'], serverVersion: '15.1' }), 'is not a postgres:// location'],
      ['s3 path with a query', (m) => {
        m.source = { type: 's3', bucket: 'b', prefix: '' };
        m.paths = ['s3://b/?credentials=env:X'];
      }, 'must not hold a user, password or query'],
      ['bad summary', (m) => ((m.summary as Record<string, unknown>).files = -1), 'summary.files'],
      ['summary extra', (m) => ((m.summary as Record<string, unknown>).more = 1), 'unknown field'],
      ['tag not a string', (m) => (m.tags = [1]), 'tags[0]'],
      ['host not a string', (m) => (m.host = null), 'host'],
    ];
    for (const [what, edit, fragment] of bad) {
      const m = manifest();
      edit(m);
      const fn = (): unknown => validateSnapshot(m, 'snapshots/abc');
      expect(fn, what).toThrow(FormatError);
      expect(fn, what).toThrow(fragment);
      expect(fn, what).toThrow('snapshots/abc');
    }
    expect(() => validateSnapshot([], 'snapshots/abc')).toThrow(FormatError);
  });

  it('makeSnapshot refuses what a reader would refuse', () => {
    const fields = {
      time: new Date(0),
      host: 'h',
      user: 'u',
      paths: ['relative'],
      tree: TREE,
      summary: { files: 0, dirs: 0, bytes: 0, newBytes: 0, storedBytes: 0 },
      program: 'p',
    };
    expect(() => makeSnapshot(fields)).toThrow(RangeError);
  });
});
