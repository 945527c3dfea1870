import { describe, expect, it } from 'vitest';
import { FormatError } from './errors.ts';
import {
  compareKeys,
  encodeObjectLine,
  encodeObjectsFile,
  encodeObjectsHeader,
  OBJECTS_FILE,
  OBJECTS_FILE_V1,
  openObjectsFile,
  type ObjectRecord,
} from './s3-objects.ts';

const record = (key: string, extra: Partial<ObjectRecord> = {}): ObjectRecord => ({
  key,
  path: key.slice(2) || '%',
  size: 3,
  etag: '"e"',
  lastModified: '2026-01-01T00:00:00.000Z',
  metadata: {},
  ...extra,
});

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('the version 2 object list (JSON Lines)', () => {
  const records = [record('p/a', { metadata: { note: 'line\nbreak' } }), record('p/b\nc'), record('p/é', { contentType: 'text/plain' }), record('p/😀')];
  const bytes = Buffer.from(encodeObjectsHeader({ bucket: 'b', prefix: 'p/' }) + records.map(encodeObjectLine).join(''), 'utf8');

  it('reads back every object, whatever the pieces it arrives in (even cut inside a character)', async () => {
    for (const size of [1, 2, 7, bytes.length]) {
      const file = await openObjectsFile(OBJECTS_FILE, pieces(bytes, size));
      expect(file).toMatchObject({ version: 2, bucket: 'b', prefix: 'p/' });
      expect(await all(file.objects)).toEqual(records);
    }
  });

  it('refuses keys out of order, a file cut short, a missing header, a key outside the prefix', async () => {
    const swapped = Buffer.from(encodeObjectsHeader({ bucket: 'b', prefix: 'p/' }) + [records[1]!, records[0]!].map(encodeObjectLine).join(''));
    await expect(all((await openObjectsFile(OBJECTS_FILE, pieces(swapped, 5))).objects)).rejects.toThrow(/not after the one before it/);
    await expect(all((await openObjectsFile(OBJECTS_FILE, pieces(bytes.subarray(0, -1), 9))).objects)).rejects.toThrow(/cut short/);
    await expect(openObjectsFile(OBJECTS_FILE, pieces(Buffer.from(encodeObjectLine(records[0]!)), 9))).rejects.toThrow(FormatError);
    const outside = Buffer.from(encodeObjectsHeader({ bucket: 'b', prefix: 'q/' }) + encodeObjectLine(records[0]!));
    await expect(all((await openObjectsFile(OBJECTS_FILE, pieces(outside, 9))).objects)).rejects.toThrow(/malformed entry/);
  });

  it('still reads version 1, sorted into key order', async () => {
    const v1 = encodeObjectsFile({ version: 1, bucket: 'b', prefix: 'p/', objects: [records[3]!, records[0]!, records[2]!] });
    const file = await openObjectsFile(OBJECTS_FILE_V1, pieces(v1, 100));
    expect(file.version).toBe(1);
    expect((await all(file.objects)).map((o) => o.key)).toEqual(['p/a', 'p/é', 'p/😀']);
  });

  it('orders keys by UTF-8 bytes, as S3 lists them, not by UTF-16 units', () => {
    expect(compareKeys('\uFFFF', '😀')).toBeLessThan(0);
    expect('\uFFFF' < '😀').toBe(false); // why compareKeys exists
    expect(compareKeys('a', 'a/')).toBeLessThan(0);
    expect(compareKeys('a-b', 'a/')).toBeLessThan(0);
    expect(compareKeys('x', 'x')).toBe(0);
  });
});
